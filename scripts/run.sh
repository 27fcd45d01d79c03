#!/usr/bin/env bash
# Installs what is missing, builds, and trains CONFIG (default configs/mnist_recipe.yaml).
# Extra arguments go to `repro train`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
config=${1:-$root/configs/mnist_recipe.yaml}
shift || true
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${REPRO_CMAKE_ARGS:-} > /dev/null
cmake --build "$build" -j "$(nproc)" > /dev/null
exec "$build/repro" train "$config" "$@"
