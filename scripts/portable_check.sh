#!/usr/bin/env bash
# determinism: portable across compilers and ISA paths: builds repro with g++ (build/) and with
# clang (build-clang/), trains CONFIG once per ISA path this CPU runs in each build, and requires
# every history, weight digest and trace to be bit-identical to the first (repro compare --exact).
#   scripts/portable_check.sh [CONFIG] [--steps N]    (default: configs/mnist_recipe.yaml, all epochs)
# Long (two builds and 2 x ISA-count trainings); not part of CI. REPRO_DATA_DIR as for the tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config=configs/mnist_recipe.yaml
steps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=(--steps "$2"); shift 2 ;;
    -*) echo "portable_check: unknown option '$1'; use [CONFIG] [--steps N]" >&2; exit 2 ;;
    *) config=$1; shift ;;
  esac
done

"$root/scripts/setup.sh"
missing=()
for p in clang-15 libomp-15-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "portable_check: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

gcc_build=${REPRO_BUILD_DIR:-$root/build}
clang_build=${REPRO_CLANG_BUILD_DIR:-$root/build-clang}
cmake -S "$root" -B "$gcc_build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$gcc_build" -j "$(nproc)" --target repro
cmake -S "$root" -B "$clang_build" -DCMAKE_BUILD_TYPE=Release -DREPRO_WITH_CUDA=OFF \
  -DCMAKE_CXX_COMPILER=clang++-15 >/dev/null
cmake --build "$clang_build" -j "$(nproc)" --target repro

# The ISA paths this CPU runs (REPRO_ISA refuses the others).
isas=(sse2)
grep -qw avx2 /proc/cpuinfo && isas+=(avx2)
grep -qw avx512f /proc/cpuinfo && isas+=(avx512)
list=$(IFS=,; echo "${isas[*]}")
work=$(mktemp -d "${TMPDIR:-/tmp}/repro-portable.XXXXXX")
cd "$root"
status=0
for compiler in gcc clang; do
  bin=$gcc_build/repro
  [ $compiler = clang ] && bin=$clang_build/repro
  echo "== $compiler: $("$bin" env --json | grep -o '"compiler": "[^"]*"' || true)"
  "$bin" check "$config" --set determinism=portable --vary "isa=$list" ${steps[@]+"${steps[@]}"} \
    --out "$work/$compiler" --keep || status=1
done
echo "== gcc against clang, run by run"
i=1
for isa in "${isas[@]}"; do
  printf '%-8s ' "$isa"
  "$gcc_build/repro" compare "$work/gcc/run$i" "$work/clang/run$i" --exact --quiet && echo "SAME" ||
    { echo "DIFFERENT"; status=1; }
  i=$((i + 1))
done
"$gcc_build/repro" compare "$work/gcc/run1" "$work/clang/run1" --exact | tail -4
echo "run folders: $work"
[ $status -eq 0 ] && echo "PASS: ${#isas[@]} ISA paths x 2 compilers bit-identical" ||
  echo "FAIL: see above"
exit $status
