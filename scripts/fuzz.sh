#!/usr/bin/env bash
# Fuzzes the readers with libFuzzer: builds fuzz/ with clang-15, address and undefined-behaviour
# sanitizers into build-fuzz/, then runs one target (or all, one after another) for SECONDS each.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]   default: all targets, 60 s each
#   scripts/fuzz.sh --list                   the target names, one a line
# An input that crashes, leaks, needs over 1 s or over 2 GB lands in $REPRO_FUZZ_WORK/artifacts/
# (default /tmp/repro-fuzz); minimize it, add it to fuzz/regressions/TARGET/ and ctest replays it.
# New corpus inputs go to $REPRO_FUZZ_WORK/corpus/TARGET, never into the repository.
# An InputError message over several lines is a finding too; REPRO_FUZZ_ALLOW_MULTILINE=1 lets a
# run go past a known one. The build and the runs go under `nice`; REPRO_FUZZ_JOBS=1 build jobs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

targets() {
  for f in "$root"/fuzz/fuzz_*.cpp; do
    basename "$f" .cpp | sed 's/^fuzz_//'
  done
}

if [ "${1:-}" = "--list" ]; then
  targets
  exit 0
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

target=${1:-all}
seconds=${2:-60}
all_targets=$(targets)
if [ "$target" != "all" ] && ! grep -qx -- "$target" <<<"$all_targets"; then
  echo "fuzz: unknown target '$target'; scripts/fuzz.sh --list names them" >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi

# clang-15 with libFuzzer and OpenMP (the libraries compile with -fopenmp), installed when missing.
"$root/scripts/setup.sh"
missing=()
for p in clang-15 libfuzzer-15-dev libomp-15-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${REPRO_FUZZ_BUILD_DIR:-$root/build-fuzz}
work=${REPRO_FUZZ_WORK:-${TMPDIR:-/tmp}/repro-fuzz}
jobs=${REPRO_FUZZ_JOBS:-1}
nice -n 10 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPRO_WITH_CUDA=OFF \
  -DREPRO_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-15 >/dev/null

if [ "$target" = "all" ]; then
  run=$all_targets
else
  run=$target
fi
build_targets=()
for t in $run; do build_targets+=("fuzz_$t"); done
nice -n 10 cmake --build "$build" -j "$jobs" --target "${build_targets[@]}"

# Stacks with function names and lines (the sanitizers look for llvm-symbolizer).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for s in /usr/lib/llvm-15/bin/llvm-symbolizer "$(command -v llvm-symbolizer || true)"; do
    if [ -x "$s" ]; then export ASAN_SYMBOLIZER_PATH=$s; break; fi
  done
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

status=0
for t in $run; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  seeds=("$root/fuzz/corpus/$t")
  if [ -d "$root/fuzz/regressions/$t" ]; then seeds+=("$root/fuzz/regressions/$t"); fi
  # The keras target also starts from the end-to-end tests' model files (one copy, used by both).
  if [ "$t" = "keras" ]; then seeds+=("$root/tests/e2e/keras"); fi
  dict=()
  if [ -f "$root/fuzz/dict/$t.dict" ]; then dict=(-dict="$root/fuzz/dict/$t.dict"); fi
  echo "fuzz: $t for ${seconds}s (corpus $work/corpus/$t)"
  if ! nice -n 10 "$build/fuzz/fuzz_$t" -timeout=1 -rss_limit_mb=2048 -max_total_time="$seconds" \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" "${dict[@]}" \
      "$work/corpus/$t" "${seeds[@]}"; then
    echo "fuzz: $t FOUND A PROBLEM: the input is in $work/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
