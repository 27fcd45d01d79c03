# What every Debian cross build shares (the architecture's file sets CMAKE_SYSTEM_PROCESSOR and
# REPRO_TRIPLET first): the cross compilers, the target's libraries found only in REPRO_SYSROOT
# (Debian's multiarch layout: usr/lib/<triplet>, usr/include/<triplet>) and the cross
# compiler's own folder, and qemu-user to run what the build runs.
set(CMAKE_C_COMPILER ${REPRO_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${REPRO_TRIPLET}-g++)
if(NOT REPRO_SYSROOT AND DEFINED ENV{REPRO_SYSROOT})
  set(REPRO_SYSROOT $ENV{REPRO_SYSROOT})
endif()
if(NOT REPRO_SYSROOT OR NOT EXISTS ${REPRO_SYSROOT}/usr/lib/${REPRO_TRIPLET})
  message(FATAL_ERROR "set REPRO_SYSROOT to the target's libraries: scripts/cross_sysroot.sh "
                      "${CMAKE_SYSTEM_PROCESSOR} makes them")
endif()
get_filename_component(REPRO_SYSROOT ${REPRO_SYSROOT} ABSOLUTE)
set(REPRO_SYSROOT ${REPRO_SYSROOT} CACHE PATH "the target's libraries (scripts/cross_sysroot.sh)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES REPRO_SYSROOT)

# A whole sysroot (riscv64) holds the C library too: the compiler takes it from there.
if(REPRO_WHOLE_SYSROOT)
  set(CMAKE_SYSROOT ${REPRO_SYSROOT})
  set(runtime ${REPRO_SYSROOT})
else()
  set(runtime /usr/${REPRO_TRIPLET})
endif()
set(CMAKE_FIND_ROOT_PATH ${REPRO_SYSROOT} /usr/${REPRO_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE ${REPRO_TRIPLET})

set(lib ${REPRO_SYSROOT}/usr/lib/${REPRO_TRIPLET})
set(CMAKE_C_FLAGS_INIT "-isystem ${REPRO_SYSROOT}/usr/include/${REPRO_TRIPLET} -isystem ${REPRO_SYSROOT}/usr/include")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
# The libraries' own dependencies are found in the sysroot too.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${lib} -Wl,-rpath-link,${lib}:${REPRO_SYSROOT}/lib/${REPRO_TRIPLET}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")

# pkg-config reads the target's .pc files, their paths under the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${REPRO_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR} "${lib}/pkgconfig:${REPRO_SYSROOT}/usr/share/pkgconfig")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${CMAKE_SYSTEM_PROCESSOR} -L ${runtime} -E
    LD_LIBRARY_PATH=${lib}:${REPRO_SYSROOT}/lib/${REPRO_TRIPLET})
