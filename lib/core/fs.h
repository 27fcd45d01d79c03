// File helpers: atomic writes (temp file + rename) so no half-written output is ever left.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace repro {

// Writes `content` to `path` through `path.tmp.<pid>` and a rename; creates parent folders.
// Throws RuntimeError naming the path on any failure and removes the temp file.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Reads a whole file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Reads a whole file of at most `max_bytes`; a longer file (or an endless one, like /dev/zero)
// is refused with an InputError before more than `max_bytes` + 1 bytes are read.
std::string read_file(const std::filesystem::path& path, int64_t max_bytes);

}  // namespace repro
