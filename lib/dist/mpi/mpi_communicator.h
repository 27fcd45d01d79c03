// The Open MPI communicator (MPI_COMM_WORLD); compiled only with REPRO_HAVE_MPI.
// It is made by world() (dist/world.cpp) and nowhere else.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace repro {

// MPI_Init_thread (funneled: only the main thread calls MPI) and the world communicator.
std::unique_ptr<Communicator> make_mpi_communicator();
// MPI_Finalize, once.
void finalize_mpi();

}  // namespace repro
