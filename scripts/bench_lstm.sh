#!/usr/bin/env bash
# Benchmarks configs/mnist_lstm.yaml (an LSTM over MNIST rows with dropout and recurrent_dropout)
# against the same model in PyTorch (bench/mnist_lstm_peer.py, without recurrent dropout, which
# nn.LSTM cannot do), in one run, 2 threads each: seconds of one training epoch (validation
# excluded) and images/s, each the median of BENCH_RUNS runs, the test accuracy after that
# epoch, and the ratio repro / PyTorch.
# Env: REPRO_DATA_DIR (a folder holding mnist/ with the four .gz files), REPRO_BUILD_DIR,
#      BENCH_RUNS (default 1), BENCH_LIMIT (train on the first N images; default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
mnist=${REPRO_DATA_DIR:-}/mnist
runs=${BENCH_RUNS:-1}
limit=${BENCH_LIMIT:-0}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -e "$mnist/train-images-idx3-ubyte.gz" ]; then
  echo "bench_lstm: no MNIST in '$mnist'; set REPRO_DATA_DIR to a folder holding mnist/" >&2
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
  "$build/repro" train "$root/configs/mnist_lstm.yaml" --quiet --epochs 1 --threads 2 \
    "${limit_args[@]}" --out "$work/run_$r"
  "$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["epochs"][0]["seconds"], r["test_accuracy"])' \
    "$work/run_$r/run.json" >> "$work/repro.txt"
  "$python" "$root/bench/mnist_lstm_peer.py" "$mnist" --epochs 1 --threads 2 "${peer_limit[@]}" \
    | awk '{ print $3, $6 }' >> "$work/peer.txt"
done
repro_s=$(cut -d' ' -f1 "$work/repro.txt" | median)
peer_s=$(cut -d' ' -f1 "$work/peer.txt" | median)
printf '%-40s %10s %10s %14s\n' "mnist_lstm, 1 epoch, 2 threads" "s/epoch" "images/s" "val/test acc"
printf '%-40s %10.2f %10.0f %14s\n' "repro (dropout + recurrent_dropout)" "$repro_s" \
  "$(awk -v n="$images" -v s="$repro_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/repro.txt" | cut -d' ' -f2)"
printf '%-40s %10.2f %10.0f %14s\n' "PyTorch $("$python" -c 'import torch; print(torch.__version__)') (no recurrent dropout)" \
  "$peer_s" "$(awk -v n="$images" -v s="$peer_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/peer.txt" | cut -d' ' -f2)"
printf 'repro / PyTorch: %.2fx the time (median of %d run(s) each)\n' \
  "$(awk -v a="$repro_s" -v b="$peer_s" 'BEGIN { print a / b }')" "$runs"
