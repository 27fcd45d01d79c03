# Included by the top-level CMakeLists.txt. Decides REPRO_HAVE_MPI from REPRO_WITH_MPI (AUTO|ON|OFF):
# the Open MPI communicator (lib/dist/mpi/) is built only then; without it repro runs as one process.
set(REPRO_HAVE_MPI OFF)
if(NOT REPRO_WITH_MPI STREQUAL "OFF")
  # The C API from C++; MPI's deprecated C++ bindings are left out.
  set(MPI_CXX_SKIP_MPICXX ON)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(REPRO_HAVE_MPI ON)
  elseif(REPRO_WITH_MPI STREQUAL "ON")
    message(FATAL_ERROR "REPRO_WITH_MPI=ON but no MPI was found; install libopenmpi-dev and "
      "openmpi-bin (scripts/setup.sh does) or use -DREPRO_WITH_MPI=OFF")
  endif()
endif()
message(STATUS "repro: MPI ${REPRO_HAVE_MPI}")
