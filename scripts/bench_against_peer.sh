# The body of scripts/bench_lstm.sh and scripts/bench_resnet.sh, sourced by them: one training
# epoch of a config in repro and of the same model in a PyTorch peer (bench/*_peer.py), 2 threads
# each, BENCH_RUNS times (default 1), medians, images/s, accuracies and the ratio.
# The caller sets: name, data (the folder of the four .gz files), data_hint (how to get them),
# config, config_args (an array of --set ...), peer, title, repro_label, peer_suffix.
build=${REPRO_BUILD_DIR:-$root/build}
runs=${BENCH_RUNS:-1}
limit=${BENCH_LIMIT:-0}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
  echo "$name: no data in '$data'; $data_hint" >&2
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
  "$build/repro" train "$config" --quiet --epochs 1 --threads 2 "${config_args[@]}" \
    "${limit_args[@]}" --out "$work/run_$r"
  "$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["epochs"][0]["seconds"], r["test_accuracy"])' \
    "$work/run_$r/run.json" >> "$work/repro.txt"
  "$python" "$peer" "$data" --epochs 1 --threads 2 "${peer_limit[@]}" \
    | awk '{ print $3, $6 }' >> "$work/peer.txt"
done
repro_s=$(cut -d' ' -f1 "$work/repro.txt" | median)
peer_s=$(cut -d' ' -f1 "$work/peer.txt" | median)
printf '%-40s %10s %10s %14s\n' "$title" "s/epoch" "images/s" "val/test acc"
printf '%-40s %10.2f %10.0f %14s\n' "$repro_label" "$repro_s" \
  "$(awk -v n="$images" -v s="$repro_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/repro.txt" | cut -d' ' -f2)"
printf '%-40s %10.2f %10.0f %14s\n' "PyTorch $("$python" -c 'import torch; print(torch.__version__)')$peer_suffix" \
  "$peer_s" "$(awk -v n="$images" -v s="$peer_s" 'BEGIN { print n / s }')" "$(tail -1 "$work/peer.txt" | cut -d' ' -f2)"
printf 'repro / PyTorch: %.2fx the time (median of %d run(s) each)\n' \
  "$(awk -v a="$repro_s" -v b="$peer_s" 'BEGIN { print a / b }')" "$runs"
