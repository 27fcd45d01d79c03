# Cross build for riscv64 Linux with Debian's cross compiler (g++-riscv64-linux-gnu) and a whole
# target sysroot from Debian 13 (scripts/cross_sysroot.sh riscv64: Debian 12 has no riscv64 port),
# its C library newer than the compiler's own, so the compiler uses the sysroot's:
#   cmake -S . -B build-riscv64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/riscv64-linux-gnu.cmake \
#         -DREPRO_SYSROOT=build-cross/sysroot-riscv64 -DREPRO_WITH_ONEDNN=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(REPRO_TRIPLET riscv64-linux-gnu)
set(REPRO_WHOLE_SYSROOT ON)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
