#!/usr/bin/env bash
# Installs what is missing, checks the format (scripts/format.sh --check), configures, builds
# (Release, warnings as errors) and runs the whole test suite, then says how many tests were
# skipped and why (no MNIST, no GPU). Non-zero exit on any failure.
#   scripts/test.sh              the suite (CI calls this)
#   scripts/test.sh --sanitize   the same suite built with AddressSanitizer and UBSan in
#                                build-sanitize/ (any report fails the test that caused it)
# REPRO_DATA_DIR (optional) points at a folder with mnist/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DREPRO_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  build=${REPRO_BUILD_DIR:-$root/build-sanitize}
  # CUDA off: the sanitizers do not see into the device, and the [cuda] tests skip here anyway.
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPRO_SANITIZE=address,undefined
              -DREPRO_WITH_CUDA=OFF)
  # Full stacks on every allocation: Open MPI's libraries and plugins have no frame pointers, and
  # its allocations kept until exit are recognised (scripts/lsan.supp) only through their frames.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:fast_unwind_on_malloc=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp}
elif [ $# -gt 0 ]; then
  echo "scripts/test.sh: unknown argument '$1'; use no argument or --sanitize" >&2
  exit 2
fi
"$root/scripts/setup.sh"
"$root/scripts/format.sh" --check
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" "${cmake_args[@]}" ${REPRO_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
cd "$build"
status=0
ctest --output-on-failure -j "$(nproc)" --timeout 1200 || status=$?

# ctest lists skipped tests by name; say why, once per reason.
log=Testing/Temporary/LastTest.log
if [ -f "$log" ]; then
  skipped=$(grep -c '^REPRO_SKIPPED: ' "$log" || true)
  echo "skipped: $skipped test(s)"
  grep '^REPRO_SKIPPED: ' "$log" | sed 's/^REPRO_SKIPPED: //' | sort | uniq -c |
    sed 's/^ */  /' || true
fi
exit "$status"
