// agree_on_failure: two allgathers (codes and message lengths, then the messages).
#include "dist/agree.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace repro {

namespace {

bool shared_failure = false;

struct Status {
  int32_t code = 0;  // 0 ok, 2 InputError, 3 anything else
  int32_t length = 0;
};

}  // namespace

void agree_on_failure(Communicator& comm, std::exception_ptr local) {
  Status mine;
  std::string message;
  if (local) {
    try {
      std::rethrow_exception(local);
    } catch (const InputError& e) {
      mine.code = 2;
      message = e.what();
    } catch (const std::exception& e) {
      mine.code = 3;
      message = e.what();
    }
    mine.length = static_cast<int32_t>(message.size());
  }
  const int ranks = comm.size();
  if (ranks == 1) {
    if (local) std::rethrow_exception(local);
    return;
  }
  std::vector<Status> all(ranks);
  comm.allgatherv(&mine, all.data(), std::vector<size_t>(ranks, sizeof(Status)));
  int failed = -1;
  for (int r = 0; r < ranks && failed < 0; ++r)
    if (all[r].code != 0) failed = r;
  if (failed < 0) return;

  std::vector<size_t> lengths(ranks);
  size_t total = 0;
  for (int r = 0; r < ranks; ++r) total += lengths[r] = static_cast<size_t>(all[r].length);
  std::string texts(total, '\0');
  comm.allgatherv(message.data(), texts.data(), lengths);
  size_t offset = 0;
  for (int r = 0; r < failed; ++r) offset += lengths[r];
  std::string text = texts.substr(offset, lengths[failed]);
  if (failed != 0) {
    // The failing rank's host, so a missing file on one machine is found.
    std::vector<char> hosts(size_t(ranks) * 64, '\0');
    char host[64] = {};
    std::strncpy(host, comm.host().c_str(), sizeof host - 1);
    comm.allgatherv(host, hosts.data(), std::vector<size_t>(ranks, sizeof host));
    text = "rank " + std::to_string(failed) + " (" + std::string(&hosts[size_t(failed) * 64]) +
           "): " + text;
  }
  shared_failure = true;
  if (all[failed].code == 2) throw InputError(text);
  throw RuntimeError(text);
}

void throw_shared(const InputError& error) {
  shared_failure = true;
  throw error;
}

bool failure_is_shared() { return shared_failure; }

}  // namespace repro
