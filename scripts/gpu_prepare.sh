#!/usr/bin/env bash
# Runs HERE (a Debian machine with apt), before a GPU session: downloads the Debian packages that
# repro builds against (apt-get download, no install, no root) and unpacks them (dpkg -x) into the
# ignored folder .device/root/ (and .device/root.tar.gz, the same tree as one archive to carry),
# and copies MNIST into .device/data/mnist. The GPU machine has CUDA,
# cuDNN (pip), CMake and Python but no apt and no internet; scripts/gpu_check.sh uses this tree.
# Base-system packages (libc, libstdc++, libgcc, libgomp, zlib) are left out on purpose: every
# machine with a compiler has them, and a second copy on LD_LIBRARY_PATH could shadow newer ones.
# Usage: scripts/gpu_prepare.sh [MNIST_DIR]   (default: /work/shared/data/mnist, else $REPRO_DATA_DIR/mnist)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
device=$root/.device
mnist=${1:-}
if [ -z "$mnist" ]; then
  for candidate in /work/shared/data/mnist "${REPRO_DATA_DIR:-/nonexistent}/mnist"; do
    if [ -f "$candidate/train-images-idx3-ubyte.gz" ]; then mnist=$candidate; break; fi
  done
fi

# What repro's CMakeLists.txt finds (see scripts/setup.sh), with the runtime libraries.
wanted=(
  libcli11-dev libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev
  libdnnl-dev libdnnl2 ocl-icd-opencl-dev ocl-icd-libopencl1 opencl-c-headers opencl-clhpp-headers
  catch2 zlib1g-dev libcurl4-openssl-dev libcurl4 libssl-dev libssl3
)
base_system='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|libgomp1|zlib1g|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|libtirpc-common|rpcsvc-proto)$'

# The dependency closure (real packages only: virtual ones print as <name>), minus the base.
mapfile -t packages < <(
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${wanted[@]}" |
    grep -v '^ ' | grep -v '^<' | sort -u | grep -Ev "$base_system")
echo "gpu_prepare: ${#packages[@]} packages: ${packages[*]}"

mkdir -p "$device/debs"
rm -rf "$device/root"
mkdir -p "$device/root"
# apt warns that its _apt user cannot write here and downloads as the caller instead: harmless.
(cd "$device/debs" && apt-get download -q "${packages[@]}" 2>&1 > /dev/null | grep -v unsandboxed >&2 || true)
if [ "$(ls "$device"/debs/*.deb | wc -l)" -lt "${#packages[@]}" ]; then
  echo "gpu_prepare: apt-get download fetched fewer packages than asked; see above" >&2
  exit 1
fi
for deb in "$device"/debs/*.deb; do dpkg -x "$deb" "$device/root"; done
# Static libraries and docs are never used; dropping them keeps the carried files small.
find "$device/root" -name '*.a' ! -name 'libCatch2*' -delete  # Catch2's config checks its .a files
rm -rf "$device/root/usr/share/doc" "$device/root/usr/share/man" "$device/root/usr/share/lintian"

# The checks gpu_check.sh relies on: CMake configs and headers of every find_package.
for f in \
  usr/include/CLI/CLI.hpp usr/include/yaml-cpp/yaml.h usr/include/nlohmann/json.hpp \
  usr/include/dnnl.hpp usr/include/catch2/catch.hpp usr/include/zlib.h usr/include/x86_64-linux-gnu/curl/curl.h \
  usr/include/openssl/ssl.h usr/include/CL/cl.h \
  usr/lib/x86_64-linux-gnu/cmake/dnnl/dnnl-config.cmake \
  usr/lib/x86_64-linux-gnu/cmake/yaml-cpp/yaml-cpp-config.cmake \
  usr/lib/x86_64-linux-gnu/libdnnl.so.2 usr/lib/x86_64-linux-gnu/libyaml-cpp.so.0.7 \
  usr/lib/x86_64-linux-gnu/libcurl.so.4 usr/lib/x86_64-linux-gnu/libssl.so.3 \
  usr/lib/x86_64-linux-gnu/libOpenCL.so.1; do
  if [ ! -e "$device/root/$f" ]; then
    echo "gpu_prepare: missing $f after unpacking; check the package list" >&2
    exit 1
  fi
done
for name in CLI11Config.cmake nlohmann_jsonConfig.cmake Catch2Config.cmake; do
  if [ -z "$(find "$device/root" -name "$name" -print -quit)" ]; then
    echo "gpu_prepare: no $name in the unpacked tree" >&2
    exit 1
  fi
done
# The newest glibc symbol version the carried libraries need: the GPU machine must have it.
glibc=$(find "$device/root" -name '*.so*' -type f -exec objdump -T {} + 2>/dev/null |
  grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)
echo "gpu_prepare: unpacked into $device/root (needs ${glibc:-an unknown glibc} or newer)"
# The device tool carries at most 64 MiB: the tree travels as one archive that gpu_check.sh unpacks.
tar -czf "$device/root.tar.gz" -C "$device" root

if [ -n "$mnist" ]; then
  mkdir -p "$device/data/mnist"
  cp "$mnist"/*-ubyte.gz "$device/data/mnist/"
  echo "gpu_prepare: MNIST copied from $mnist to $device/data/mnist"
else
  echo "gpu_prepare: no MNIST found; pass its folder as the first argument" >&2
  exit 1
fi
du -sh "$device/root" "$device/root.tar.gz" "$device/data" | sed 's/^/gpu_prepare: /'
echo "gpu_prepare: carry .device/root.tar.gz and .device/data to the GPU machine, then run scripts/gpu_check.sh"
