#!/usr/bin/env bash
# Makes the target libraries for a cross build: Debian's packages of the target architecture,
# downloaded with apt and unpacked into a folder, not installed (several -dev packages, yaml-cpp's
# and HDF5's, are not Multi-Arch: same, so they cannot be installed beside the machine's own).
#   scripts/cross_sysroot.sh aarch64|riscv64 [DIR]     default DIR: build-cross/sysroot-<arch>
# aarch64: Debian 12's arm64 packages (the architecture added to dpkg); the C and C++ runtime
#   come with the cross compiler (crossbuild-essential-arm64).
# riscv64: Debian 12 has no riscv64 port; Debian 13 (trixie) has, so its packages come through a
#   private apt state (nothing in /etc/apt changes), C library and C++ runtime included: the folder
#   is a whole sysroot, newer than the cross compiler's own (g++-riscv64-linux-gnu).
# Prints the folder. Needs root (or sudo) for apt; the packages are cached in DIR/../debs-<arch>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:-}
case "$arch" in
  aarch64) deb_arch=arm64 compiler=crossbuild-essential-arm64 ;;
  riscv64) deb_arch=riscv64 compiler=g++-riscv64-linux-gnu ;;
  *) echo "cross_sysroot: give aarch64 or riscv64 (not '$arch')" >&2; exit 2 ;;
esac
dir=${2:-$root/build-cross/sysroot-$arch}
cache=$(dirname "$dir")
debs=$cache/debs-$arch

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# The libraries repro links, as the native build takes them (scripts/setup.sh).
wanted=(libyaml-cpp-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libzip-dev libpng-dev
        libjpeg62-turbo-dev libhdf5-dev libonnx-dev libprotobuf-dev libgomp1)
# Header-only libraries: one package (Architecture: all) for every architecture.
headers=(libcli11-dev nlohmann-json3-dev)
if [ "$arch" = aarch64 ]; then
  wanted+=(libdnnl-dev)  # oneDNN 2.6, the API repro's backend is written for
  # What the cross toolchain brings itself (its libc, libgcc and libstdc++).
  toolchain='^(libc6|libc6-dev|libc-dev-bin|libgcc-s1|libgcc-12-dev|libstdc\+\+6|libstdc\+\+-12-dev|linux-libc-dev|libcrypt1|libcrypt-dev|gcc-12-base|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|rpcsvc-proto)$'
else
  wanted+=(libc6-dev libstdc++6 libgcc-s1)  # the whole sysroot (libc 2.41, GCC 14's runtime)
  toolchain='^$'
fi

missing=()
for p in "$compiler" qemu-user; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

apt_options=()
if [ "$arch" = aarch64 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
    "${sudo_cmd[@]}" dpkg --add-architecture "$deb_arch"
    "${sudo_cmd[@]}" apt-get update -qq
  fi
else
  state=$cache/apt-$arch
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
  echo "deb [arch=$deb_arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "http://deb.debian.org/debian trixie main" > "$state/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
               -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
               -o "APT::Architecture=$deb_arch" -o "APT::Architectures::=$deb_arch"
               -o Dir::State::status=/dev/null)
  [ -n "$(ls "$state/lists" 2> /dev/null | grep Packages)" ] || apt-get "${apt_options[@]}" update -qq
fi

# The packages and everything they depend on, for the target architecture.
closure=$(apt-cache "${apt_options[@]}" depends --recurse --no-recommends --no-suggests \
            --no-conflicts --no-breaks --no-replaces --no-enhances "${wanted[@]/%/:$deb_arch}" |
          grep -E "^[a-z0-9]" | sed "s/:$deb_arch\$//" | grep -vE ':|^<' | sort -u |
          grep -vE "$toolchain")
closure="$closure ${headers[*]}"
mkdir -p "$debs" "$dir"
(
  cd "$debs"
  for p in $closure; do
    # Architecture-independent packages (headers of header-only libraries) come as :all.
    ls "${p}"_*.deb > /dev/null 2>&1 || apt-get "${apt_options[@]}" download -qq "$p:$deb_arch" \
      2> /dev/null || apt-get download -qq "$p" 2> /dev/null ||
      echo "cross_sysroot: no package $p" >&2
  done
)
for f in "$debs"/*.deb; do dpkg -x "$f" "$dir"; done
if [ "$arch" = riscv64 ]; then
  # Debian 13's packages assume merged /usr (/lib is usr/lib, as base-files makes it).
  [ -e "$dir/lib" ] || ln -s usr/lib "$dir/lib"
  # Its libraries need GCC 14's C++ runtime, newer than the cross compiler's (GCC 12): -lstdc++
  # takes the sysroot's (the compiler's headers work with a newer runtime, not the reverse).
  [ -e "$dir/usr/lib/$arch-linux-gnu/libstdc++.so" ] ||
    ln -s libstdc++.so.6 "$dir/usr/lib/$arch-linux-gnu/libstdc++.so"
fi
# The link that update-alternatives makes when libhdf5-dev is installed: hdf5.pc is the serial
# build's (Debian's default), as on the native machine.
pc=$dir/usr/lib/$arch-linux-gnu/pkgconfig
[ -e "$pc/hdf5.pc" ] || ln -s hdf5-serial.pc "$pc/hdf5.pc"
echo "$dir"
