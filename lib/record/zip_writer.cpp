// write_zip over libzip's in-memory source: the archive is written into a growing buffer source
// kept past zip_close, then read back out of it.
#include "record/zip_writer.h"

#include <zip.h>

#include "core/error.h"

namespace repro {

std::string write_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) throw RuntimeError(std::string("libzip: ") + zip_error_strerror(&error));
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) {
    zip_source_free(buffer);
    throw RuntimeError(std::string("libzip: ") + zip_error_strerror(&error));
  }
  zip_source_keep(buffer);  // zip_close writes into it; it is read below
  auto fail = [&](const std::string& what) {
    const std::string why = zip_strerror(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    throw RuntimeError("libzip: " + what + ": " + why);
  };
  constexpr zip_uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
  for (const auto& [name, bytes] : members) {
    zip_source_t* member = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!member) fail(name);
    const zip_int64_t index = zip_file_add(archive, name.c_str(), member, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(member);
      fail(name);
    }
    const auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(archive, i, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(archive, i, 0, kDosDate, 0) != 0)
      fail(name);
  }
  if (zip_close(archive) != 0) fail("close");

  std::string out;
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_source_stat(buffer, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE) ||
      zip_source_open(buffer) != 0) {
    zip_source_free(buffer);
    throw RuntimeError("libzip: the archive written in memory cannot be read back");
  }
  out.resize(static_cast<size_t>(stat.size));
  const zip_int64_t got = zip_source_read(buffer, out.data(), stat.size);
  zip_source_close(buffer);
  zip_source_free(buffer);
  if (got < 0 || static_cast<zip_uint64_t>(got) != stat.size)
    throw RuntimeError("libzip: the archive written in memory cannot be read back");
  return out;
}

}  // namespace repro
