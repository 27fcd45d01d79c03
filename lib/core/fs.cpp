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

std::string read_file(const std::filesystem::path& path, int64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path.string() + ": cannot open: " + std::strerror(errno) +
                     "; check the path");
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

}  // namespace repro
