#!/usr/bin/env bash
# Builds the Debian package repro_<version>_<arch>.deb (CPack's DEB generator; its Depends are
# computed by dpkg-shlibdeps from the libraries repro links), then checks it: the package is
# installed (as root, with dpkg -i, when no repro package is installed yet and dpkg is free; it is
# removed again with dpkg -r) or else unpacked into a scratch root (dpkg -x), and its repro runs
# --version and a tiny training of its own configs/tiny.yaml from an empty folder. PASS or FAIL.
#   scripts/package.sh            build (Release, in $REPRO_BUILD_DIR or build/), package, check
#   scripts/package.sh --no-check build and package only
# The .deb is left in the build folder; its path is the last line before PASS. The training needs
# MNIST: $REPRO_DATA_DIR, else ../shared/data beside the source tree, else the download cache.
# Exit 0 PASS, 1 FAIL, 2 usage, 77 (with a SKIPPED line) when dpkg-deb or dpkg-shlibdeps is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${REPRO_BUILD_DIR:-$root/build}
check=1
case "${1:-}" in
  "") ;;
  --no-check) check=0 ;;
  *) echo "scripts/package.sh: unknown argument '$1'; use no argument or --no-check" >&2; exit 2 ;;
esac
for tool in dpkg-deb dpkg-shlibdeps; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: $tool is missing (apt-get install dpkg-dev)"
    exit 77
  fi
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target repro -j "${REPRO_JOBS:-$(nproc)}"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb="$build/repro_${version}_${arch}.deb"
rm -f "$deb"
(cd "$build" && cpack -G DEB >/dev/null)
if [ ! -f "$deb" ]; then
  echo "FAIL: cpack wrote no $deb (see $build/_CPack_Packages)"
  exit 1
fi
echo "package: $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends | sed 's/^/  /'
if [ "$check" = 0 ]; then exit 0; fi

scratch=$(mktemp -d)
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then dpkg -r repro >/dev/null || echo "package: dpkg -r repro failed"; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Every dependency dpkg-shlibdeps computed must be a Debian package (installed here, as the build
# needed them), and the package must name its libraries rather than nothing.
depends=$(dpkg-deb --field "$deb" Depends)
[ -n "$depends" ] || fail "the package has no Depends; dpkg-shlibdeps found no libraries"
for dep in $(echo "$depends" | tr ',' '\n' | sed 's/[(|].*//; s/ //g'); do
  dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" ||
    fail "the dependency $dep is not an installed Debian package"
done

if [ "$(id -u)" = 0 ] && ! dpkg-query -W repro >/dev/null 2>&1 &&
   dpkg -i "$deb" >"$scratch/dpkg.log" 2>&1; then
  installed=1
  prefix=/usr
  echo "package: installed with dpkg -i (removed again at the end)"
else
  dpkg -x "$deb" "$scratch/root"
  prefix=$scratch/root/usr
  echo "package: unpacked with dpkg -x into $scratch/root"
fi
repro=$prefix/bin/repro
[ -x "$repro" ] || fail "$repro is missing from the package"
for file in share/repro/configs/tiny.yaml share/repro/configs/config.schema.json \
            share/man/man1/repro.1 share/bash-completion/completions/repro; do
  [ -f "$prefix/$file" ] || fail "$file is missing from the package"
done
"$repro" --version || fail "repro --version exits $?"

data=${REPRO_DATA_DIR:-}
if [ -z "$data" ] && [ -f "$root/../shared/data/mnist/train-images-idx3-ubyte.gz" ]; then
  data=$(cd "$root/../shared/data" && pwd)
fi
mkdir "$scratch/empty"
cd "$scratch/empty"
REPRO_DATA_DIR=$data "$repro" train "$prefix/share/repro/configs/tiny.yaml" --epochs 1 --quiet \
  --out "$scratch/run" || fail "repro train of the packaged tiny.yaml exits $?"
[ -f "$scratch/run/model.safetensors" ] || fail "the training wrote no model.safetensors"
echo "$deb"
echo "PASS: the package installs, runs --version and trains tiny.yaml from an empty folder"
