#!/usr/bin/env bash
# Installs the Debian packages repro builds against, only those that are missing.
# Idempotent: runs `apt-get update` once, and only when something must be installed.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev
  libdnnl-dev ocl-icd-opencl-dev
  catch2 zlib1g-dev libcurl4-openssl-dev libssl-dev
  libopenmpi-dev openmpi-bin
  clang-format
  libonnx-dev libprotobuf-dev libpng-dev libjpeg-dev libzip-dev
  libjpeg-turbo-progs
  libhdf5-dev python3-h5py python3-numpy
  python3-jsonschema python3-yaml dpkg-dev
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
