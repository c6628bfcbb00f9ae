#!/usr/bin/env bash
# Screenshots of the real app under Xvfb, on the bundled demo (images and texts):
#   packaging/screenshots/shoot.sh [OUT_DIR]        (default docs/screenshots)
# Starts `aldesk demo KIND` in a fresh profile, labels a few items with real key presses (xdotool), grabs the
# screen with ImageMagick `import -window root`, and refuses a blank image or a system without fonts (text
# would draw as boxes and a "not blank" check alone would still pass).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$REPO/docs/screenshots}"
PY="${PYTHON:-$REPO/.venv/bin/python}"
W=1400
H=860
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for cmd in xvfb-run xdotool import identify; do
    command -v "$cmd" >/dev/null || { echo "shoot.sh: $cmd is missing (apt install xvfb xdotool imagemagick)" >&2; exit 1; }
done

shoot() {  # $1 = images|texts ; $2 = keys to press before the shot
    local kind="$1" keys="$2" png="$OUT/labeling-$1.png"
    # A fresh profile (settings, demo project); the embedding cache is shared so a rerun is quick.
    export XDG_CONFIG_HOME="$WORK/$kind/config" XDG_DATA_HOME="$WORK/$kind/data"
    export SHOT_PY="$PY" SHOT_KIND="$kind" SHOT_KEYS="$keys" SHOT_PNG="$png" SHOT_W="$W" SHOT_H="$H"
    xvfb-run -a -s "-screen 0 ${W}x${H}x24 -dpi 96" bash -c '
        set -euo pipefail
        "$SHOT_PY" - <<PYEOF
import sys
from PySide6.QtGui import QFontDatabase, QGuiApplication
app = QGuiApplication(sys.argv)
fams = QFontDatabase.families()
print(f"fonts: {len(fams)} families, e.g. {fams[:3]}")
sys.exit(0 if fams else 3)
PYEOF
        "$SHOT_PY" -m aldesk demo "$SHOT_KIND" &
        app=$!
        # The title names the project once the demo is embedded and the labeling view is up.
        win=$(timeout 300 xdotool search --sync --name "aldesk — " | head -n1)
        xdotool windowmove "$win" 0 0 windowsize "$win" "$SHOT_W" "$SHOT_H" windowfocus --sync "$win"
        sleep 1
        for k in $SHOT_KEYS; do xdotool key --window "$win" "$k" 2>/dev/null || xdotool key "$k"; sleep 0.4; done
        sleep 2  # density, thumbnails, deferred re-rank
        import -window root "$SHOT_PNG"
        xdotool key ctrl+q
        wait $app
    '
    # Not blank: a real UI has a wide spread of pixel values.
    local sd
    sd=$(identify -format "%[fx:standard_deviation]" "$png")
    echo "$png: $(identify -format "%wx%h" "$png"), pixel std $sd"
    awk -v s="$sd" 'BEGIN { exit !(s > 0.05) }' || { echo "shoot.sh: $png looks blank" >&2; exit 1; }
}

shoot images "1 2 3 4 5 6 7 8 9 0 Return 1 2 Return Return"
shoot texts "1 2 1 2 2 1 Return Return 1 2 Return"
echo "screenshots in $OUT"
