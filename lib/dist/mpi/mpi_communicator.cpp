// Communicator over MPI_COMM_WORLD: byte collectives (MPI_Allgatherv, MPI_Alltoallv), the host
// name and the ranks per host. Every MPI call is checked; a failure is a RuntimeError naming it.
// MPI's default error handler aborts the job on a failed call, so the check is for the
// messages of handlers set otherwise.
#include "dist/mpi/mpi_communicator.h"

#include <mpi.h>

#include <climits>
#include <string>
#include <vector>

#include "core/error.h"

namespace repro {

namespace {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw RuntimeError(std::string(call) + " failed: " + std::string(text, length));
}
#define REPRO_MPI(call) check_mpi((call), #call)

// MPI counts are int: byte counts and displacements past 2 GiB are refused, never wrapped.
std::vector<int> int_counts(const std::vector<size_t>& counts, std::vector<int>& displacements) {
  std::vector<int> out(counts.size());
  displacements.assign(counts.size(), 0);
  size_t offset = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    REPRO_CHECK(counts[r] <= INT_MAX && offset <= INT_MAX,
                "an MPI message past 2 GiB (" + std::to_string(offset + counts[r]) + " bytes)");
    out[r] = static_cast<int>(counts[r]);
    displacements[r] = static_cast<int>(offset);
    offset += counts[r];
  }
  return out;
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    REPRO_MPI(MPI_Initialized(&initialized));
    if (!initialized) {
      int provided = 0;
      REPRO_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    }
    REPRO_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    REPRO_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    MPI_Comm local;
    REPRO_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local));
    REPRO_MPI(MPI_Comm_size(local, &local_size_));
    REPRO_MPI(MPI_Comm_free(&local));
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    REPRO_MPI(MPI_Get_processor_name(name, &length));
    host_.assign(name, length);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }
  std::string host() const override { return host_; }

  void allgatherv(const void* send, void* recv, const std::vector<size_t>& counts) override {
    REPRO_CHECK(counts.size() == size_t(size_), "allgatherv: one count per rank");
    std::vector<int> displacements;
    const std::vector<int> n = int_counts(counts, displacements);
    REPRO_MPI(MPI_Allgatherv(send, n[rank_], MPI_BYTE, recv, n.data(), displacements.data(),
                             MPI_BYTE, MPI_COMM_WORLD));
    bytes_sent_ += uint64_t(counts[rank_]) * uint64_t(size_ - 1);
  }

  void alltoallv(const void* send, const std::vector<size_t>& send_counts, void* recv,
                 const std::vector<size_t>& recv_counts) override {
    REPRO_CHECK(send_counts.size() == size_t(size_) && recv_counts.size() == size_t(size_),
                "alltoallv: one count per rank");
    std::vector<int> send_displacements, recv_displacements;
    const std::vector<int> s = int_counts(send_counts, send_displacements);
    const std::vector<int> r = int_counts(recv_counts, recv_displacements);
    REPRO_MPI(MPI_Alltoallv(send, s.data(), send_displacements.data(), MPI_BYTE, recv, r.data(),
                            recv_displacements.data(), MPI_BYTE, MPI_COMM_WORLD));
    for (int q = 0; q < size_; ++q)
      if (q != rank_) bytes_sent_ += send_counts[q];
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
  }

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
  std::string host_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace repro
