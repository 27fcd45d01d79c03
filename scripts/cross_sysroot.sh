#!/usr/bin/env bash
# Makes the target libraries for a cross build: Debian's packages of the target architecture,
# downloaded with apt (the architecture added to dpkg) and unpacked into a folder, not installed:
# several -dev packages (yaml-cpp, HDF5) are not Multi-Arch: same, so they cannot be installed
# beside the machine's own. The cross compiler and its C and C++ libraries come from
# crossbuild-essential-<arch>; qemu-user runs the result.
#   scripts/cross_sysroot.sh aarch64 [DIR]     default DIR: build-cross/sysroot-aarch64
# Prints the folder. Needs root (or sudo) for apt; the packages are cached in DIR/../debs-<arch>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:-}
case "$arch" in
  aarch64) deb_arch=arm64 ;;
  *) echo "cross_sysroot: give aarch64 (Debian 12 has no riscv64 libraries; see README)" >&2; exit 2 ;;
esac
dir=${2:-$root/build-cross/sysroot-$arch}
debs=$(dirname "$dir")/debs-$arch

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# The libraries repro links, as the native build takes them (scripts/setup.sh).
wanted=(libyaml-cpp-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libdnnl-dev libzip-dev
        libpng-dev libjpeg62-turbo-dev libhdf5-dev libonnx-dev libprotobuf-dev libgomp1)
# Header-only libraries: one package (Architecture: all) for every architecture.
headers=(libcli11-dev nlohmann-json3-dev)
# What the cross toolchain brings itself (its libc, libgcc and libstdc++).
toolchain='^(libc6|libc6-dev|libc-dev-bin|libgcc-s1|libgcc-12-dev|libstdc\+\+6|libstdc\+\+-12-dev|linux-libc-dev|libcrypt1|libcrypt-dev|gcc-12-base|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|rpcsvc-proto)$'

if ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
  "${sudo_cmd[@]}" dpkg --add-architecture "$deb_arch"
  "${sudo_cmd[@]}" apt-get update -qq
fi
missing=()
for p in "crossbuild-essential-$deb_arch" qemu-user; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The packages and everything they depend on, for the target architecture.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${wanted[@]/%/:$deb_arch}" |
          grep -E "^[a-z0-9]" | sed "s/:$deb_arch\$//" | grep -vE ':|^<' | sort -u |
          grep -vE "$toolchain")
closure="$closure ${headers[*]}"
mkdir -p "$debs" "$dir"
(
  cd "$debs"
  for p in $closure; do
    # Architecture-independent packages (headers of header-only libraries) come as :all.
    ls "${p}"_*.deb > /dev/null 2>&1 || apt-get download -qq "$p:$deb_arch" 2> /dev/null ||
      apt-get download -qq "$p" 2> /dev/null || echo "cross_sysroot: no package $p" >&2
  done
)
for f in "$debs"/*.deb; do dpkg -x "$f" "$dir"; done
# The link that update-alternatives makes when libhdf5-dev is installed: hdf5.pc is the serial
# build's (Debian's default), as on the native machine.
pc=$dir/usr/lib/$arch-linux-gnu/pkgconfig
[ -e "$pc/hdf5.pc" ] || ln -s hdf5-serial.pc "$pc/hdf5.pc"
echo "$dir"
