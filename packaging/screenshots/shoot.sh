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
    # Seed the demo project with a few TRUE labels (the demo knows them), so the screenshot shows sensible
    # predictions and neighbours rather than whatever random keys would have taught the model.
    "$PY" - "$kind" <<'PYEOF'
import sys
from aldesk.cli.app_cmds import demo_paths
from aldesk.core.project import Project
from aldesk.core.session import Action
from aldesk.core.sources import load_source

data, project, classes = demo_paths(sys.argv[1])
ds = load_source(data)
from aldesk.core.embed import default_card
p = Project.create(project, ds, classes, model_id=default_card(ds.kind).id)
seen: dict[str, int] = {}
seq = 0
for i, lab in enumerate(ds.known_labels or []):
    if lab in classes and seen.get(lab, 0) < 2:
        seen[lab] = seen.get(lab, 0) + 1
        p.journal(Action("label", (i,), lab, (None,), origin="user", seq=seq))
        seq += 1
p.close()
print(f"seeded {seq} true labels")
PYEOF
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
        sleep 1  # let the first layout settle, or the resize below is undone by it
        xdotool windowmove "$win" 0 0
        xdotool windowsize --sync "$win" "$SHOT_W" "$SHOT_H" || true
        xdotool windowfocus --sync "$win"
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

shoot images "j j k"
shoot texts "j k"
# The README's overview: the whole window with the plots dock, after 120 true labels given with key presses.
"$PY" "$HERE/overview.py" --out "$OUT/overview.png"
# The first-run hints overlay, as a new user sees it (no key pressed yet).
"$PY" "$HERE/overview.py" --labels 0 --out "$OUT/first-run-hints.png"
# The grid (a page of predicted items, a search by meaning) and the lasso's preview, in the real window under Xvfb.
xvfb-run -a -s "-screen 0 ${W}x${H}x24 -dpi 96" env QT_QPA_PLATFORM=xcb "$PY" "$HERE/grid.py" --out "$OUT"
echo "screenshots in $OUT"
