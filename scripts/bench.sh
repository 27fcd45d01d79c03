#!/usr/bin/env bash
# Benchmarks `repro train` on the recipe (real MNIST) against the PyTorch peer, in one run:
# median seconds per training epoch and images/s at 1 and 2 threads (determinism on), 2 threads
# with determinism off and portable, peak RSS, then the peer at 1 and 2 threads and the ratios; then
# configs/fashion_bn_aug.yaml against ../shared/peers/fashion_peer.py, one epoch each.
# Env: REPRO_DATA_DIR (a folder with mnist/; default ../shared/data), REPRO_BUILD_DIR,
#      BENCH_EPOCHS (default 2), BENCH_LIMIT (train on the first N images; default all),
#      BENCH_SKIP_PEER=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
data=${REPRO_DATA_DIR:-$root/../shared/data}
epochs=${BENCH_EPOCHS:-2}
limit=${BENCH_LIMIT:-0}
config=$root/configs/mnist_recipe.yaml
python=/usr/bin/python3
peer=$root/../shared/peers/torch_peer.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -e "$data/mnist/train-images-idx3-ubyte.gz" ] && [ ! -e "$data/mnist/train-images-idx3-ubyte" ]; then
  echo "bench: no MNIST under $data/mnist; set REPRO_DATA_DIR to a folder holding mnist/" >&2
  exit 2
fi
data=$(cd "$data" && pwd)

"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release ${REPRO_CMAKE_ARGS:-} > /dev/null
cmake --build "$build" --target repro -j "$(nproc)" > /dev/null

# Median of the per-epoch training seconds in a run.json, and the test accuracy.
run_stats() {
  "$python" - "$1" <<'PY'
import json, statistics, sys
run = json.load(open(sys.argv[1]))
seconds = [e["seconds"] for e in run["epochs"]]
print(f'{statistics.median(seconds):.3f} {run["test_accuracy"] * 100:.2f}')
PY
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }

# Peak RSS in MB from /usr/bin/time -v's report.
peak_rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

images=60000
limit_args=()
peer_limit_args=()
if [ "$limit" -gt 0 ]; then
  images=$limit
  limit_args=(--set "data.limit=$limit")
  peer_limit_args=(--limit "$limit")
fi
printf '%-38s %10s %10s %9s %9s\n' "run" "s/epoch" "images/s" "RSS MB" "test acc"
bench_repro() {  # label, threads, determinism
  local label=$1 threads=$2 det=$3 out=$work/run_$1
  REPRO_DATA_DIR=$data /usr/bin/time -v -o "$work/time_$label" "$build/repro" train "$config" \
    --quiet --epochs "$epochs" --threads "$threads" --set "determinism=$det" "${limit_args[@]}" --out "$out"
  read -r median acc < <(run_stats "$out/run.json")
  printf '%-38s %10s %10.0f %9s %8s%%\n' "repro, $threads thread(s), determinism $det" "$median" \
    "$(div "$images" "$median")" "$(peak_rss "$work/time_$label")" "$acc"
  eval "median_$label=$median"
}
bench_repro t1 1 on
bench_repro t2 2 on
bench_repro t2off 2 off
bench_repro t2portable 2 portable
printf 'portable against on at 2 threads: %.3f s / %.3f s per epoch = %.2fx the time\n' \
  "$median_t2portable" "$median_t2" "$(div "$median_t2portable" "$median_t2")"

if [ "${BENCH_SKIP_PEER:-0}" = 1 ]; then
  echo "peer: skipped (BENCH_SKIP_PEER=1)"
  exit 0
fi
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "peer: skipped, PyTorch is missing (apt-get install python3-torch python3-numpy)"
  exit 0
fi
bench_peer() {  # label, threads
  local label=$1 threads=$2
  /usr/bin/time -v -o "$work/time_$label" "$python" "$peer" --data-dir "$data/mnist" \
    --threads "$threads" --epochs "$epochs" --seed 42 "${peer_limit_args[@]}" \
    --history "$work/torch_history_$label.json" > "$work/$label.log"
  local median acc
  median=$("$python" - "$work/$label.log" <<'PY'
import statistics, sys
for line in open(sys.argv[1]):
    if line.startswith("epoch_train_seconds"):
        print(f'{statistics.median(float(s) for s in line.split()[1:]):.3f}')
PY
)
  acc=$(awk '/final evaluate/ {for (i = 1; i <= NF; i++) if ($i == "test_accuracy") printf "%.2f", $(i+1) * 100}' "$work/$label.log")
  printf '%-38s %10s %10.0f %9s %8s%%\n' "pytorch peer, $threads thread(s)" "$median" \
    "$(div "$images" "$median")" "$(peak_rss "$work/time_$label")" "$acc"
  eval "median_$label=$median"
}
bench_peer peer1 1
bench_peer peer2 2
printf 'ratio at 2 threads, determinism on: repro %.3f s / pytorch %.3f s per epoch = %.2f of its time\n' \
  "$median_t2" "$median_peer2" "$(div "$median_t2" "$median_peer2")"
printf 'ratio at 1 thread, determinism on: repro %.3f s / pytorch %.3f s per epoch = %.2f of its time\n' \
  "$median_t1" "$median_peer1" "$(div "$median_t1" "$median_peer1")"
printf 'on against off at 2 threads: %.3f s / %.3f s per epoch = %.2f\n' \
  "$median_t2" "$median_t2off" "$(div "$median_t2" "$median_t2off")"

# configs/fashion_bn_aug.yaml (batch norm, augmentation, AdamW with cosine decay) against the same
# model in PyTorch (fashion_peer.py), one epoch each at 2 threads (determinism on).
fashion=/usr/share/datasets/fashion-mnist
fashion_peer=$root/../shared/peers/fashion_peer.py
if [ ! -e "$fashion/train-images-idx3-ubyte.gz" ] || [ ! -e "$fashion_peer" ]; then
  echo "fashion: skipped (needs $fashion from dataset-fashion-mnist and $fashion_peer)"
  exit 0
fi
/usr/bin/time -v -o "$work/time_fashion" "$build/repro" train "$root/configs/fashion_bn_aug.yaml" \
  --quiet --epochs 1 --threads 2 --out "$work/run_fashion"
read -r fashion_median fashion_acc < <(run_stats "$work/run_fashion/run.json")
printf '%-38s %10s %10.0f %9s %8s%%\n' "repro fashion_bn_aug, 2 threads, on" "$fashion_median" \
  "$(div 60000 "$fashion_median")" "$(peak_rss "$work/time_fashion")" "$fashion_acc"
/usr/bin/time -v -o "$work/time_fashion_peer" "$python" "$fashion_peer" "$fashion" --epochs 1 \
  --threads 2 > "$work/fashion_peer.log"
read -r fashion_peer_seconds fashion_peer_acc < <(awk '/^epoch 1:/ {print $3, $NF * 100}' \
  "$work/fashion_peer.log")
printf '%-38s %10.3f %10.0f %9s %8.2f%%\n' "pytorch fashion peer, 2 threads" \
  "$fashion_peer_seconds" "$(div 60000 "$fashion_peer_seconds")" \
  "$(peak_rss "$work/time_fashion_peer")" "$fashion_peer_acc"
printf 'fashion ratio at 2 threads: repro %.3f s / pytorch %.3f s per epoch = %.2f of its time\n' \
  "$fashion_median" "$fashion_peer_seconds" "$(div "$fashion_median" "$fashion_peer_seconds")"
