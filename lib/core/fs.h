// File helpers: atomic writes (temp file, fsync, rename) so no half-written output is ever left,
// bounded whole-file reads, and the advisory lock that keeps two runs out of one folder.
// Not a general I/O layer: formats live in lib/record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repro {

// Writes `content` to `path` through `path.tmp.<pid>`, fsync and a rename; creates parent
// folders. On any failure (disk full, file size limit, permissions) throws RuntimeError naming
// the path and the reason, removes the temp file and leaves the previous `path` as it was.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Writes several files as one: every content goes to its temp file first, and only when all are
// written and synced are they renamed into place, in the order given. A failure before the
// renames leaves every previous file as it was and no temp file behind.
void write_files_atomic(const std::vector<std::pair<std::filesystem::path, std::string>>& files);

// Reads a whole file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Reads a whole file of at most `max_bytes`; a longer file (or an endless one, like /dev/zero)
// is refused with an InputError before more than `max_bytes` + 1 bytes are read.
std::string read_file(const std::filesystem::path& path, int64_t max_bytes);

// An exclusive advisory lock (flock) on FOLDER/.lock, held while the object lives: a second
// `repro train` into the same run folder refuses at once instead of interleaving files. Also
// removes temp files (*.tmp.<pid>) that a killed process left in the folder and its checkpoints/.
class FolderLock {
 public:
  explicit FolderLock(const std::filesystem::path& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// Fault injection for the tests of the write path, read once from REPRO_FAULT:
//   REPRO_FAULT=fail:NAME   every atomic write of a file named NAME fails as if the disk were full
//   REPRO_FAULT=kill:NAME   the process kills itself (SIGKILL) halfway through writing NAME
// Unset (always, outside tests) it costs one string comparison per write.
struct WriteFault {
  enum class Kind { none, fail, kill };
  Kind kind = Kind::none;
  std::string file_name;
};
const WriteFault& write_fault();

}  // namespace repro
