// The process's communicator: launcher detection from the environment, SingleProcess, and the
// one place that asks whether the MPI communicator was built.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "dist/communicator.h"
#if REPRO_HAVE_MPI
#include <mpi.h>

#include "dist/mpi/mpi_communicator.h"
#endif

namespace repro {

namespace {

std::unique_ptr<Communicator> the_world;
bool the_world_is_mpi = false;

// A launcher variable as a non-negative int; -1 when unset or not a number.
int env_int(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return -1;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > 1000000) return -1;
  return static_cast<int>(value);
}

}  // namespace

std::string SingleProcess::host() const {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

void SingleProcess::allgatherv(const void* send, void* recv, const std::vector<size_t>& counts) {
  if (counts[0] > 0) std::memcpy(recv, send, counts[0]);
}

void SingleProcess::alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                              const std::vector<size_t>& recv_counts) {
  REPRO_CHECK(send_counts[0] == recv_counts[0], "alltoallv: a rank sends itself what it receives");
  if (send_counts[0] > 0) std::memcpy(recv, send, send_counts[0]);
}

void SingleProcess::abort(int code) { std::_Exit(code); }

Launch launch_from_environment() {
  Launch launch;
  const int ompi_size = env_int("OMPI_COMM_WORLD_SIZE"), pmi_size = env_int("PMI_SIZE");
  const int ompi_rank = env_int("OMPI_COMM_WORLD_RANK"), pmi_rank = env_int("PMI_RANK"),
            pmix_rank = env_int("PMIX_RANK");
  launch.launched =
      ompi_size >= 0 || pmi_size >= 0 || ompi_rank >= 0 || pmi_rank >= 0 || pmix_rank >= 0;
  if (!launch.launched) return launch;
  launch.size = ompi_size >= 1 ? ompi_size : pmi_size >= 1 ? pmi_size : 0;
  launch.rank = ompi_rank >= 0 ? ompi_rank : pmi_rank >= 0 ? pmi_rank : std::max(pmix_rank, 0);
  return launch;
}

std::string mpi_library_version() {
#if REPRO_HAVE_MPI
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "";
  std::string version(text, static_cast<size_t>(length));
  version = version.substr(0, version.find('\n'));
  return version.substr(0, version.find(','));
#else
  return "";
#endif
}

bool built_with_mpi() {
#if REPRO_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Communicator& world() {
  if (the_world) return *the_world;
  const Launch launch = launch_from_environment();
#if REPRO_HAVE_MPI
  if (launch.launched) {
    the_world = make_mpi_communicator();
    the_world_is_mpi = true;
    return *the_world;
  }
#else
  // A launcher that started several copies of a build without MPI: refuse, or each would
  // train alone and write the same run folder.
  if (launch.launched && (launch.size > 1 || (launch.size == 0 && launch.rank > 0)))
    throw InputError("this repro was built without MPI, but a launcher (mpirun, srun) started " +
                     (launch.size > 1 ? std::to_string(launch.size) : std::string("several")) +
                     " processes; rebuild with libopenmpi-dev installed (-DREPRO_WITH_MPI=ON) "
                     "or run a single process without mpirun");
#endif
  the_world = std::make_unique<SingleProcess>();
  return *the_world;
}

bool world_is_mpi() { return the_world_is_mpi; }

void finalize_world() {
#if REPRO_HAVE_MPI
  if (the_world_is_mpi) finalize_mpi();
#endif
  the_world_is_mpi = false;
  the_world.reset();
}

}  // namespace repro
