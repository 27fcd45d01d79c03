#!/usr/bin/env bash
# Data parallelism on one machine: the recipe as 1 rank x T threads (no mpirun) against
# R ranks x T/R threads (mpirun -n R), which must give the same bits. Prints seconds per epoch
# (training time, from run.json), whole-run wall time, the ratio, and the bytes each rank sends
# per step (repro train --profile). Time it on a quiet machine (`uptime`: load well under 1).
#   scripts/bench_mpi.sh [EPOCHS] [RANKS]      defaults: 1 epoch, 2 ranks, T = nproc
# REPRO_DATA_DIR (optional) points at a folder with mnist/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exe=${REPRO_BUILD_DIR:-$root/build}/repro
epochs=${1:-1}
ranks=${2:-2}
cores=$(nproc)
per_rank=$(( cores / ranks > 0 ? cores / ranks : 1 ))
if ! command -v mpirun >/dev/null; then
  echo "bench_mpi.sh: no mpirun on PATH; run scripts/setup.sh (openmpi-bin)" >&2
  exit 2
fi
launcher=(mpirun -n "$ranks")
if [ "$(id -u)" -eq 0 ]; then launcher+=(--allow-run-as-root); fi
if [ "$ranks" -gt "$cores" ]; then launcher+=(--oversubscribe); fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root"

# Seconds of each epoch's training from run.json, summed.
epoch_seconds() {
  grep -o '"seconds": [0-9.eE+-]*' "$1/run.json" | awk '{ s += $2 } END { printf "%.3f", s }'
}
run() {  # NAME THREADS [LAUNCHER...]: trains, records wall time and the profile
  local name=$1 threads=$2
  shift 2
  local start end
  start=$(date +%s.%N)
  "$@" "$exe" train configs/mnist_recipe.yaml --epochs "$epochs" --threads "$threads" --quiet \
    --profile --out "$out/$name" >"$out/$name.txt"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }' >"$out/$name.wall"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (cores: $cores)"
run one "$cores"
run many "$per_rank" "${launcher[@]}"
"$exe" compare --exact "$out/one" "$out/many" >"$out/compare.txt" || {
  cat "$out/compare.txt"
  echo "bench_mpi.sh: the runs differ" >&2
  exit 1
}
one=$(epoch_seconds "$out/one")
many=$(epoch_seconds "$out/many")
bytes=$(awk '/bytes sent by rank 0 per step/ { print $2 }' "$out/many.txt")
printf '%-34s %9s %9s\n' "run ($epochs epoch(s), recipe)" "train s" "wall s"
printf '%-34s %9.3f %9.3f\n' "1 rank x $cores threads" "$one" "$(cat "$out/one.wall")"
printf '%-34s %9.3f %9.3f\n' "$ranks ranks x $per_rank thread(s)" "$many" "$(cat "$out/many.wall")"
echo "ratio (ranks / one process, training time): $(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.3f", a / b }')"
echo "bytes sent per step by rank 0: $bytes"
echo "bits: identical (repro compare --exact)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
