#!/usr/bin/env bash
# determinism: portable across CPU architectures: builds repro for ARCH with Debian's cross
# compiler and the target's Debian libraries (scripts/cross_sysroot.sh), runs it under qemu-user
# on real MNIST (configs/tiny.yaml for its first epoch, and the recipe's first 30 steps, both in
# portable mode with a trace digest every 5 steps; then 10 steps each of a layer graph, the
# augmentations and an LSTM), and requires the final weights and every trace digest to equal
# the native x86-64 build's (`repro compare --exact`). PASS or FAIL per
# architecture; exit 0 when every architecture asked for passed.
#   REPRO_DATA_DIR=... scripts/cross_check.sh [aarch64|riscv64|all]   default: all
# aarch64 links Debian 12's arm64 libraries, oneDNN included; riscv64 Debian 13's (Debian 12 has
# no riscv64 port), without oneDNN (Debian 13 has oneDNN 3, whose API repro's backend predates), so
# its determinism: on runs the portable backend; portable is what is compared on both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-all}
case "$target" in
  aarch64 | riscv64) archs=("$target") ;;
  all) archs=(aarch64 riscv64) ;;
  *) echo "cross_check: give aarch64, riscv64 or all (not '$target')" >&2; exit 2 ;;
esac
if [ -z "${REPRO_DATA_DIR:-}" ] || [ ! -d "$REPRO_DATA_DIR/mnist" ]; then
  echo "cross_check: set REPRO_DATA_DIR to a folder holding mnist/ (the IDX .gz files)" >&2
  exit 2
fi
jobs=${REPRO_CROSS_JOBS:-2}
native=$root/build
work=${REPRO_CROSS_WORK:-$root/build-cross}
mkdir -p "$work"

# The native binary: the runs to match, and the compare.
if [ ! -x "$native/repro" ]; then
  cmake -S "$root" -B "$native" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$native" -j "$jobs" --target repro > /dev/null
fi

# name|command: the runs, each with `--out DIR` added.
# Beyond tiny.yaml and the recipe: the layer graph with batch norm (resnet_small), the
# augmentations with RMSprop (fashion_bn_aug) and the LSTM with both dropouts, all on MNIST.
portable="--set determinism=portable --set training.trace.every=5 --threads 2 --quiet"
runs=("tiny|train configs/tiny.yaml $portable --epochs 1"
      "recipe|train configs/mnist_recipe.yaml $portable --steps 30"
      "resnet|train configs/resnet_small.yaml $portable --set data.dataset=mnist --steps 10"
      "augment|train configs/fashion_bn_aug.yaml $portable --set data.dataset=mnist --steps 10"
      "lstm|train configs/mnist_lstm.yaml $portable --steps 10")

seconds_since() { echo "$(date +%s.%N) - $1" | bc; }

native_seconds=0
run_native() {  # name command: the native run to match, and its time in native_seconds
  local out=$work/native-$1 start
  rm -rf "$out"
  start=$(date +%s.%N)
  (cd "$root" && "$native/repro" $2 --out "$out") > /dev/null
  native_seconds=$(seconds_since "$start")
}

failed=0
for arch in "${archs[@]}"; do
  triplet=$arch-linux-gnu
  if [ "$arch" = riscv64 ]; then
    onednn=OFF runtime=$work/sysroot-$arch  # a whole sysroot: its C library runs the binary
  else
    onednn=AUTO runtime=/usr/$triplet       # the cross compiler's C library
  fi
  sysroot=$("$root/scripts/cross_sysroot.sh" "$arch" "$work/sysroot-$arch" | tail -1)
  build=$work/build-$arch
  start=$(date +%s)
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$triplet.cmake" -DREPRO_SYSROOT="$sysroot" \
    -DREPRO_WITH_MPI=OFF -DREPRO_WITH_CUDA=OFF -DREPRO_BUILD_TESTS=OFF \
    -DREPRO_WITH_ONEDNN="$onednn" > "$work/cmake-$arch.log"
  cmake --build "$build" -j "$jobs" --target repro > "$work/build-$arch.log" 2>&1 ||
    { tail -20 "$work/build-$arch.log"; echo "$arch: FAIL (the build failed)"; failed=1; continue; }
  echo "$arch: built in $(($(date +%s) - start)) s"
  emulator=(qemu-"$arch" -L "$runtime" -E
            "LD_LIBRARY_PATH=$sysroot/usr/lib/$triplet:$sysroot/lib/$triplet")
  "${emulator[@]}" "$build/repro" --version | sed "s/^/$arch: /"
  ok=1
  for entry in "${runs[@]}"; do
    name=${entry%%|*}
    command=${entry#*|}
    run_native "$name" "$command"
    out=$work/$arch-$name
    rm -rf "$out"
    start=$(date +%s.%N)
    (cd "$root" && "${emulator[@]}" "$build/repro" $command --out "$out") > /dev/null
    seconds=$(seconds_since "$start")
    verdict=$("$native/repro" compare --exact "$work/native-$name" "$out" | grep -m1 'verdict:' || true)
    weights=$(grep -m1 -o '"weights_sha256": "[0-9a-f]*"' "$out/run.json" | cut -d'"' -f4)
    printf '%s: %-7s %6.1f s emulated (native %5.1f s)  weights %s  %s\n' "$arch" "$name" \
      "$seconds" "$native_seconds" "${weights:0:16}" "$verdict"
    case "$verdict" in *"SAME (exact"*) ;; *) ok=0 ;; esac
  done
  if [ "$ok" = 1 ]; then echo "$arch: PASS"; else echo "$arch: FAIL"; failed=1; fi
done
exit "$failed"
