// Atomic file writes and whole-file reads.
#include "core/fs.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"

namespace repro {

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      throw RuntimeError(path.parent_path().string() + ": cannot create folder: " + ec.message() +
                         "; check the path and its permissions");
    }
  }
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw RuntimeError(tmp.string() + ": cannot open for writing: " + std::strerror(errno) +
                         "; check the folder exists and is writable");
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(tmp, ec);
      throw RuntimeError(tmp.string() + ": write failed (disk full?); nothing was written to " +
                         path.string());
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignore;
    std::filesystem::remove(tmp, ignore);
    throw RuntimeError(path.string() + ": cannot rename temp file into place: " + ec.message());
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path.string() + ": cannot open: " + std::strerror(errno) +
                     "; check the path");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace repro
