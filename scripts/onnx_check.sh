#!/usr/bin/env bash
# Checks `repro export --format onnx` against a real ONNX runtime: exports RUN, runs the model in
# ONNX Runtime (npm's onnxruntime-node, CPU) on all the test images (MNIST's 10,000, or the given
# ones), and compares with
# `repro predict` on the same images: max |probability difference| <= 1e-4, the same class for
# every image whose top two probabilities differ by more than 1e-4, and the test accuracy run.json
# recorded.
#   scripts/onnx_check.sh RUN                        RUN: a run folder of an MNIST config
#   scripts/onnx_check.sh RUN IMAGES.npy LABELS.npy  any run, with its test split as .npy arrays:
#                                                    uint8 images (N, H, W[, C]) or a table's
#                                                    float32 rows (N, features), uint8 labels (N)
# ONNX Runtime is installed once into $REPRO_ONNX_CACHE (default ~/.cache/repro/onnxruntime-node)
# with `npm install --ignore-scripts` (its CPU library ships in the package; the install script
# only fetches GPU builds). REPRO_DATA_DIR as for the tests. Exit 0 pass, 1 fail, 2 bad use,
# 77 skipped (no node/npm, or no MNIST), with the reason on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
run=${1:-}
if [ -z "$run" ] || [ ! -f "$run/run.json" ]; then
  echo "onnx_check: give a run folder (with run.json): scripts/onnx_check.sh RUN" >&2
  exit 2
fi
data=${REPRO_DATA_DIR:-$root/../shared/data}
images=${2:-$data/mnist/t10k-images-idx3-ubyte.gz}
labels=${3:-$data/mnist/t10k-labels-idx1-ubyte.gz}
if [ -n "${2:-}" ] && { [ ! -f "$images" ] || [ ! -f "$labels" ]; }; then
  echo "onnx_check: no file $images or $labels" >&2
  exit 2
fi
if [ ! -f "$images" ] || [ ! -f "$labels" ]; then
  echo "SKIPPED: no MNIST test files in $data/mnist (set REPRO_DATA_DIR)"
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIPPED: no node and npm here (ONNX Runtime comes from the npm registry)"
  exit 77
fi
cache=${REPRO_ONNX_CACHE:-${HOME:-/tmp}/.cache/repro/onnxruntime-node}
version=1.30.0
if ! mkdir -p "$cache" 2>/dev/null; then  # no writable home: a cache in the temp folder
  cache=${TMPDIR:-/tmp}/repro-onnxruntime-node
  mkdir -p "$cache"
fi
# One install at a time (the tests run two checks at once); the registry gets 10 minutes at most.
exec 9>"$cache.lock"
flock 9
if [ ! -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
  echo "onnx_check: installing onnxruntime-node@$version into $cache"
  if ! timeout 600 npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
      --fetch-retries=1 --fetch-timeout=60000 --prefix "$cache" "onnxruntime-node@$version" \
      >"$cache/install.log" 2>&1; then
    tail -5 "$cache/install.log" >&2
    echo "SKIPPED: npm could not install onnxruntime-node (no registry?); see $cache/install.log"
    exit 77
  fi
fi
flock -u 9
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/repro" export "$run" --out "$work/model.onnx" >/dev/null
"$build/repro" predict "$run" "$images" --out "$work/repro.npy" 2>/dev/null
NODE_PATH="$cache/node_modules" node "$root/scripts/onnx_check.js" "$work/model.onnx" \
  "$images" "$labels" "$work/repro.npy" "$run/run.json"
