#!/usr/bin/env bash
# Checks `repro report` in a real browser: trains two short runs of a config (the second with
# another seed), reports them, renders the page with headless Chromium in the light and the dark
# colour scheme, and checks each picture (not blank, the page's background, both runs' colours,
# the highlight of differing rows) and the rendered DOM (4 charts, both runs' curves, dashed
# validation, legends naming the folders, axis ticks, the divergence marker, the seed row
# highlighted). Prints the PNGs' paths. Without Chromium it says SKIPPED and exits 0.
# Not a CI test (Chromium is large and slow): run it after changing lib/report.
#   scripts/report_check.sh [OUT_DIR]      default build/report-check
# Environment: REPRO_BUILD_DIR (default build), CHROMIUM (default: chromium on PATH),
# REPORT_CHECK_CONFIG (default configs/mnist_recipe.yaml), REPORT_CHECK_SETS (default: the first
# 3,200 training images, a trace every 10 steps, a steps.csv row every 2), REPORT_CHECK_SEED_B.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
out=$(realpath -m "${1:-$build/report-check}")
repro=$build/repro
config=$(realpath -m "${REPORT_CHECK_CONFIG:-$root/configs/mnist_recipe.yaml}")
read -r -a sets <<< "${REPORT_CHECK_SETS:---set data.limit=3200 --set training.trace.every=10 --set training.log.every=2}"
seed_b=${REPORT_CHECK_SEED_B:-813}

say() { echo "[report_check] $*"; }
fail() { echo "[report_check] FAILED: $*" >&2; exit 1; }

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$chromium" ]; then
  say "SKIPPED: no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
  exit 0
fi
[ -x "$repro" ] || fail "no $repro: build first (scripts/test.sh, or cmake --build build)"
command -v python3 > /dev/null || fail "python3 is needed to check the pictures"

# Only what this script writes is replaced: OUT_DIR may hold other files.
mkdir -p "$out"
cd "$out"
rm -rf run_a run_b report.html report.png report-dark.png report.dom.html chromium.log
say "training two runs of $config (${sets[*]}), B with seed $seed_b"
"$repro" train "$config" "${sets[@]}" --quiet --out run_a
"$repro" train "$config" "${sets[@]}" --set "seed=$seed_b" --quiet --out run_b
"$repro" report run_a run_b --out report.html

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile")
[ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
url="file://$out/report.html"
render() {  # render PNG [extra flags]: a 1200x2000 screenshot
  local png=$1
  shift
  timeout 120 "$chromium" "${flags[@]}" "$@" --window-size=1200,2000 --screenshot="$png" "$url" \
    > "$out/chromium.log" 2>&1 || { cat "$out/chromium.log" >&2; fail "chromium could not render $url"; }
  [ -s "$png" ] || fail "chromium wrote no $png"
}
render "$out/report.png"
render "$out/report-dark.png" --force-dark-mode --blink-settings=preferredColorScheme=0
timeout 120 "$chromium" "${flags[@]}" --dump-dom "$url" > "$out/report.dom.html" 2> "$out/chromium.log" ||
  { cat "$out/chromium.log" >&2; fail "chromium could not dump the DOM of $url"; }

say "rendered DOM:"
python3 "$root/scripts/report_check.py" dom "$out/report.dom.html" run_a run_b
say "pictures (light: background, run A, run B, highlighted row; dark: the same):"
python3 "$root/scripts/report_check.py" png "$out/report.png" ffffff 0b6bcb d1480b fff0bf
python3 "$root/scripts/report_check.py" png "$out/report-dark.png" 15171a 5aa9ff ff8a4c 4a3a0c
say "PASSED"
echo "$out/report.png"
echo "$out/report-dark.png"
