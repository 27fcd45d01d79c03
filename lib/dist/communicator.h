// The ranks of a data-parallel run and the few collectives its trainer needs, behind one
// interface: Open MPI when mpirun (or srun) started the process and repro was built with MPI,
// else one process. It moves bytes in rank order; it knows nothing of models or gradients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace repro {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;        // 0-based
  virtual int size() const = 0;        // ranks in the job
  virtual int local_size() const = 0;  // ranks on this host
  virtual std::string host() const = 0;

  // recv = every rank's `send` bytes, concatenated in rank order; counts[r] is rank r's byte
  // count (counts[rank()] is this rank's).
  virtual void allgatherv(const void* send, void* recv, const std::vector<size_t>& counts) = 0;
  // send holds send_counts[q] bytes for each rank q, in rank order; recv gets recv_counts[r]
  // bytes from each rank r, in rank order.
  virtual void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                         const std::vector<size_t>& recv_counts) = 0;
  // Ends every rank of the job now with `code` (a failure that the other ranks do not know of).
  [[noreturn]] virtual void abort(int code) = 0;

  // Bytes this rank sent to other ranks so far (the benchmark's volume per step).
  uint64_t bytes_sent() const { return bytes_sent_; }

 protected:
  uint64_t bytes_sent_ = 0;
};

// A job of one: every collective is a copy.
class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_size() const override { return 1; }
  std::string host() const override;
  void allgatherv(const void* send, void* recv, const std::vector<size_t>& counts) override;
  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts) override;
  [[noreturn]] void abort(int code) override;
};

// What a launcher (mpirun, srun) says in the environment, read before any MPI call:
// OMPI_COMM_WORLD_SIZE / _RANK (Open MPI), PMI_SIZE / PMI_RANK (PMI, Slurm), PMIX_RANK (PMIx).
struct Launch {
  bool launched = false;  // some launcher variable is set
  int size = 1;           // 0: a launcher whose size is not in the environment
  int rank = 0;
};
Launch launch_from_environment();

// The process's communicator, made on first use: MPI when launched with more than zero ranks
// and built with MPI, else SingleProcess. Throws InputError when a launcher started several
// ranks but this build has no MPI (instead of training K independent copies).
Communicator& world();
// True when world() was made and is an MPI communicator (so abort() reaches every rank).
bool world_is_mpi();
// Ends MPI (MPI_Finalize) when world() started it; call once, before exit.
void finalize_world();

// Whether repro was built with the Open MPI communicator.
bool built_with_mpi();
// The MPI library's own first line (MPI_Get_library_version, callable before MPI_Init), e.g.
// "Open MPI v4.1.4, ..."; "" in a build without MPI.
std::string mpi_library_version();

}  // namespace repro
