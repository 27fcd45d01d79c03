#!/usr/bin/env bash
# Formats the C++ and CUDA sources with clang-format and the repository's .clang-format.
#   scripts/format.sh           rewrites every tracked .cpp, .h and .cu file in place
#   scripts/format.sh --check   changes nothing; lists the files that differ, exit 1 if any
# clang-format comes from Debian (scripts/setup.sh installs it); CI runs --check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-fix}
if [ "$mode" != "fix" ] && [ "$mode" != "--check" ]; then
  echo "scripts/format.sh: unknown argument '$mode'; use no argument or --check" >&2
  exit 2
fi
# The version fixes the output: Debian 12's clang-format-14 first.
tool=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$tool" ]; then
  echo "scripts/format.sh: clang-format not found; run scripts/setup.sh (Debian clang-format)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.h' '*.cu')
if [ "$mode" = "fix" ]; then
  "$tool" -i --style=file "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! "$tool" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "format: ${#bad[@]} file(s) differ from .clang-format ($("$tool" --version | sed 's/.*version //')):"
  printf '  %s\n' "${bad[@]}"
  echo "run scripts/format.sh to fix them"
  exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
