#!/usr/bin/env bash
# Benchmarks configs/resnet_small.yaml (a layer graph: residual blocks, batch norm, add) against
# the same model in PyTorch (bench/resnet_small_peer.py), in one run, 2 threads each: seconds of
# one training epoch (validation excluded) and images/s, each the median of BENCH_RUNS runs,
# repro's test accuracy, and the ratio repro / PyTorch.
# Env: REPRO_FASHION_DIR (the four Fashion-MNIST .gz files; default Debian's
#      /usr/share/datasets/fashion-mnist), REPRO_BUILD_DIR, BENCH_RUNS (default 1), BENCH_LIMIT
#      (train on the first N images; default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
fashion=${REPRO_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
runs=${BENCH_RUNS:-1}
limit=${BENCH_LIMIT:-0}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -e "$fashion/train-images-idx3-ubyte.gz" ]; then
  echo "bench_resnet: no Fashion-MNIST in $fashion; apt-get install dataset-fashion-mnist or set REPRO_FASHION_DIR" >&2
  exit 2
fi
cmake --build "$build" --target repro -j "$(nproc)" > /dev/null

images=60000
limit_args=()
peer_limit=()
if [ "$limit" -gt 0 ]; then
  images=$limit
  limit_args=(--set "data.limit=$limit")
  peer_limit=(--limit "$limit")
fi
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for r in $(seq "$runs"); do
  "$build/repro" train "$root/configs/resnet_small.yaml" --quiet --epochs 1 --threads 2 \
    --set data.dataset=idx --set "data.train_images=$fashion/train-images-idx3-ubyte.gz" \
    --set "data.train_labels=$fashion/train-labels-idx1-ubyte.gz" \
    --set "data.test_images=$fashion/t10k-images-idx3-ubyte.gz" \
    --set "data.test_labels=$fashion/t10k-labels-idx1-ubyte.gz" \
    "${limit_args[@]}" --out "$work/run_$r"
  "$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["epochs"][0]["seconds"], r["test_accuracy"])' \
    "$work/run_$r/run.json" >> "$work/repro.txt"
  "$python" "$root/bench/resnet_small_peer.py" "$fashion" --epochs 1 --threads 2 "${peer_limit[@]}" \
    | awk '{ print $3, $6 }' >> "$work/peer.txt"
done
repro_s=$(cut -d' ' -f1 "$work/repro.txt" | median)
peer_s=$(cut -d' ' -f1 "$work/peer.txt" | median)
printf '%-34s %10s %10s %14s\n' "resnet_small, 1 epoch, 2 threads" "s/epoch" "images/s" "val/test acc"
printf '%-34s %10.2f %10.0f %14s\n' "repro (determinism on)" "$repro_s" \
  "$(awk -v n="$images" -v s="$repro_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/repro.txt" | cut -d' ' -f2)"
printf '%-34s %10.2f %10.0f %14s\n' "PyTorch $("$python" -c 'import torch; print(torch.__version__)')" \
  "$peer_s" "$(awk -v n="$images" -v s="$peer_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/peer.txt" | cut -d' ' -f2)"
printf 'repro / PyTorch: %.2fx the time (median of %d run(s) each)\n' \
  "$(awk -v a="$repro_s" -v b="$peer_s" 'BEGIN { print a / b }')" "$runs"
