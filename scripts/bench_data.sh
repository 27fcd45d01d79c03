#!/usr/bin/env bash
# Images per second of the input pipeline for one full MNIST training epoch (60k images,
# shuffle, batch 64, map with resize to 32x32), with 1 and 2 map workers (median of 3 epochs).
# Usage: scripts/bench_data.sh [MNIST_DIR]   (default: the normal lookup, e.g. $REPRO_DATA_DIR/mnist)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
if [ ! -x "$build/repro" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${REPRO_CMAKE_ARGS:-} > /dev/null
  cmake --build "$build" --target repro -j "$(nproc)" > /dev/null
fi
dir_args=()
if [ $# -ge 1 ]; then dir_args=(--dir "$1"); fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
exec "$build/repro" data bench "${dir_args[@]}"
