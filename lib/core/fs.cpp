// Atomic file writes (POSIX write/fsync/rename, every call checked), bounded whole-file reads and
// the run folder lock.
#include "core/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace repro {

namespace fs = std::filesystem;

const WriteFault& write_fault() {
  static const WriteFault fault = [] {
    WriteFault f;
    const char* env = std::getenv("REPRO_FAULT");
    if (!env) return f;
    const std::string text = env;
    if (text.rfind("fail:", 0) == 0) f.kind = WriteFault::Kind::fail;
    if (text.rfind("kill:", 0) == 0) f.kind = WriteFault::Kind::kill;
    if (f.kind != WriteFault::Kind::none) f.file_name = text.substr(5);
    return f;
  }();
  return fault;
}

namespace {

std::string errno_text(int error) {
  if (error == ENOSPC) return std::string(std::strerror(error)) + " (the disk is full)";
  if (error == EFBIG) return std::string(std::strerror(error)) + " (a file size limit was hit)";
  return std::strerror(error);
}

// Writes all of `content` to `fd`; returns 0 or the errno of the failure.
int write_all(int fd, std::string_view content, const fs::path& final_path) {
  const WriteFault& fault = write_fault();
  const bool injected =
      fault.kind != WriteFault::Kind::none && final_path.filename().string() == fault.file_name;
  size_t done = 0;
  while (done < content.size()) {
    if (injected && done >= content.size() / 2) {
      if (fault.kind == WriteFault::Kind::kill) {
        ::fsync(fd);
        std::raise(SIGKILL);
      }
      return ENOSPC;
    }
    size_t chunk = content.size() - done;
    if (injected) chunk = std::max<size_t>(1, std::min(chunk, content.size() / 2 - done));
    const ssize_t n = ::write(fd, content.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

fs::path temp_path(const fs::path& path) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  return tmp;
}

void remove_quietly(const fs::path& path) {
  std::error_code ignore;
  fs::remove(path, ignore);
}

// Writes and syncs `content` to the temp file of `path`; returns the temp file's path. On
// failure removes it and throws RuntimeError naming `path`.
fs::path write_temp(const fs::path& path, std::string_view content) {
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw RuntimeError(path.parent_path().string() + ": cannot create folder: " + ec.message() +
                         "; check the path and its permissions");
    }
  }
  const fs::path tmp = temp_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RuntimeError(path.string() + ": cannot open " + tmp.filename().string() +
                       " for writing: " + errno_text(errno) +
                       "; check the folder exists and is writable");
  }
  int error = write_all(fd, content, path);
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    remove_quietly(tmp);
    throw RuntimeError(path.string() + ": write failed: " + errno_text(error) +
                       "; the previous file is unchanged. Free space or raise the limit, then "
                       "run again");
  }
  return tmp;
}

// After a rename, sync the folder so the new name survives a power cut.
void sync_folder(const fs::path& path) {
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // syncing a folder is best effort: the data itself is already synced
  ::fsync(fd);
  ::close(fd);
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    remove_quietly(tmp);
    throw RuntimeError(path.string() + ": cannot rename the temp file into place: " + ec.message());
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view content) {
  const fs::path tmp = write_temp(path, content);
  rename_into_place(tmp, path);
  sync_folder(path);
}

void write_files_atomic(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<fs::path> temps;
  try {
    for (const auto& [path, content] : files) temps.push_back(write_temp(path, content));
  } catch (...) {
    for (const fs::path& tmp : temps) remove_quietly(tmp);
    throw;
  }
  for (size_t i = 0; i < files.size(); ++i) rename_into_place(temps[i], files[i].first);
  if (!files.empty()) sync_folder(files.front().first);
}

std::string read_file(const fs::path& path) {
  return read_file(path, std::numeric_limits<int64_t>::max());
}

std::string read_file(const fs::path& path, int64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path.string() + ": cannot open: " + std::strerror(errno) + "; check the path");
  }
  std::string out;
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof(buffer));
    out.append(buffer, static_cast<size_t>(in.gcount()));
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      throw InputError(path.string() + ": larger than " + std::to_string(max_bytes) +
                       " bytes, more than this kind of file may be; is it the right file?");
    }
  }
  if (in.bad()) {
    throw InputError(path.string() + ": read failed: " + std::strerror(errno));
  }
  return out;
}

namespace {

// Temp files of a process that is gone: NAME.tmp.<pid> with no such process.
void remove_stale_temps(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + 5);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
    remove_quietly(entry.path());
  }
}

}  // namespace

FolderLock::FolderLock(const fs::path& folder) {
  const fs::path lock_path = folder / ".lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw RuntimeError(lock_path.string() + ": cannot open the run folder's lock: " +
                       errno_text(errno) + "; check the folder is writable");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw InputError(folder.string() +
                       ": another repro process is writing this run folder; "
                       "wait for it to finish or pass another --out");
    }
    throw RuntimeError(lock_path.string() + ": cannot lock: " + errno_text(error));
  }
  remove_stale_temps(folder);
  remove_stale_temps(folder / "checkpoints");
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace repro
