# Cross build for aarch64 (ARM64) Linux with Debian's cross compiler (crossbuild-essential-arm64)
# and the target's libraries unpacked by scripts/cross_sysroot.sh:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DREPRO_SYSROOT=build-cross/sysroot-aarch64
# scripts/cross_check.sh does this and runs the result under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(REPRO_TRIPLET aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
