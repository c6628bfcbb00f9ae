#!/usr/bin/env bash
# Build the one-folder desktop bundle (dist/aldesk/) with PyInstaller, then smoke-test it offscreen.
#
#   bash packaging/pyinstaller/build.sh            # build + smoke test
#   SKIP_BUILD=1 bash packaging/pyinstaller/build.sh   # only smoke-test an existing dist/aldesk
#
# Everything it makes stays under packaging/pyinstaller/ (.venv/, build/, dist/; all git-ignored).
# Needs only PyPI (aldesk's dependencies and pyinstaller) and, to run Qt offscreen, the system libraries of
# the README's apt-get line.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
DIST="$HERE/dist"
APP="$DIST/aldesk/aldesk"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  # A venv of its own: the bundle must hold aldesk as a user installs it (a real, non-editable install),
  # and nothing that a developer's .venv happens to carry (pytest, ruff, ...).
  if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --upgrade -c "$HERE/constraints.txt" "$ROOT[packaging]"
  rm -rf "$DIST/aldesk"
  "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --workpath "$HERE/build" --distpath "$DIST" "$HERE/aldesk.spec"
fi

echo "== bundle size"
du -sh "$DIST/aldesk"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# A throw-away home: the smoke test must not touch the user's recent-projects list or caches.
export HOME="$TMP/home" XDG_DATA_HOME="$TMP/home/.local/share" XDG_CACHE_HOME="$TMP/home/.cache"
export XDG_CONFIG_HOME="$TMP/home/.config" XDG_STATE_HOME="$TMP/home/.local/state"
mkdir -p "$HOME"

echo "== --version"
start=$(date +%s.%N)
"$APP" --version
end=$(date +%s.%N)
printf 'time to --version: %.2f s\n' "$(echo "$end - $start" | bc)"

echo "== simulate on the bundled demo texts"
DEMO="$(find "$DIST/aldesk" -path '*aldesk/resources/demo/texts.csv' | head -n1)"
"$APP" simulate "$DEMO" --label-column label --folds 2 --budget 20 --out "$TMP/sim.json" --quiet
python3 - "$TMP/sim.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
assert isinstance(data, dict) and data, "simulate wrote no results"
print("simulate ok:", ", ".join(sorted(data)[:8]))
PY

echo "== the app, offscreen, for a few seconds"
# The app has no auto-quit switch: run it under a timeout; exit code 124 (killed by timeout) is the success case.
set +e
QT_QPA_PLATFORM=offscreen timeout 10 "$APP" demo texts >"$TMP/app.out" 2>"$TMP/app.err"
rc=$?
set -e
if [[ $rc != 124 ]] || grep -q "Traceback" "$TMP/app.err"; then
  echo "app smoke test failed (exit $rc):"; cat "$TMP/app.err"; exit 1
fi
echo "app ran 10 s without a traceback"
if [[ -s "$TMP/app.err" ]]; then echo "(its stderr:)"; head -n 20 "$TMP/app.err"; fi

# Start-up time to a real window, under Xvfb when it is there (xvfb xdotool): start page shown, then the demo
# project open (the title names the project once the labeling view is up).
if command -v xvfb-run >/dev/null && command -v xdotool >/dev/null; then
  echo "== start-up under Xvfb"
  export APP
  xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
    set -euo pipefail
    t0=$(date +%s.%N)
    "$APP" demo texts >/dev/null 2>&1 &
    pid=$!
    timeout 120 xdotool search --sync --onlyvisible --name "^aldesk" >/dev/null
    t1=$(date +%s.%N)
    timeout 300 xdotool search --sync --onlyvisible --name "aldesk — " >/dev/null
    t2=$(date +%s.%N)
    printf "time to window shown: %.2f s\n" "$(echo "$t1 - $t0" | bc)"
    printf "time to demo project open (texts, embedded): %.2f s\n" "$(echo "$t2 - $t0" | bc)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  '
fi
echo "== smoke test passed"
