#!/usr/bin/env bash
# Installs what is missing, configures, builds (Release) and runs the whole test suite.
# Non-zero exit on any failure. REPRO_DATA_DIR (optional) points at a folder with mnist/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${REPRO_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
