// ZipReader over libzip's in-memory source.
#include "record/zip_reader.h"

#include <zip.h>

#include "core/error.h"

namespace repro {

struct ZipReader::Archive {
  zip_t* zip = nullptr;
  ~Archive() {
    if (zip) zip_discard(zip);
  }
};

ZipReader::ZipReader(std::string_view bytes, const std::string& file, const std::string& what)
    : archive_(std::make_unique<Archive>()), file_(file), size_(bytes.size()) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) throw RuntimeError(file + ": libzip: " + zip_error_strerror(&error));
  archive_->zip = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (!archive_->zip) {
    const std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    throw InputError(file + ": not a " + what + " (a zip file): " + clipped(why, 120));
  }
}

ZipReader::~ZipReader() = default;

bool ZipReader::has(const std::string& name) const {
  return zip_name_locate(archive_->zip, name.c_str(), 0) >= 0;
}

std::vector<std::string> ZipReader::names(size_t max_names) const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(archive_->zip, 0);
  for (zip_int64_t i = 0; i < n && out.size() < max_names; ++i) {
    const char* entry = zip_get_name(archive_->zip, static_cast<zip_uint64_t>(i), 0);
    if (entry) out.push_back(clipped(entry, 40));
  }
  return out;
}

std::string ZipReader::read(const std::string& name, uint64_t max_bytes) const {
  const std::string where = file_ + ": " + clipped(name);
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat(archive_->zip, name.c_str(), 0, &stat) != 0)
    throw InputError(where + ": no such member");
  if (!(stat.valid & ZIP_STAT_SIZE) || stat.size > max_bytes)
    throw InputError(where + " claims " + std::to_string(stat.size) + " bytes uncompressed, over " +
                     "the " + std::to_string(max_bytes) + " repro reads");
  // Nothing is allocated for a size the compressed bytes cannot hold: they lie within the file,
  // stored members are their own size, and deflate expands at most 1032 times.
  if (!(stat.valid & ZIP_STAT_COMP_SIZE) || !(stat.valid & ZIP_STAT_COMP_METHOD) ||
      stat.comp_size > size_ ||
      (stat.comp_method == ZIP_CM_STORE ? stat.size != stat.comp_size
                                        : stat.size / 1032 > stat.comp_size + 1024))
    throw InputError(where + " claims " + std::to_string(stat.size) + " bytes from " +
                     std::to_string(stat.comp_size) +
                     " compressed; the archive is damaged or a compression bomb");
  zip_file_t* entry = zip_fopen(archive_->zip, name.c_str(), 0);
  if (!entry)
    throw InputError(where + " cannot be opened (" + clipped(zip_strerror(archive_->zip), 120) +
                     ")");
  std::string text(static_cast<size_t>(stat.size), '\0');
  const zip_int64_t got = zip_fread(entry, text.data(), stat.size);
  const bool bad = got < 0 || static_cast<zip_uint64_t>(got) != stat.size;
  const std::string why = bad ? clipped(zip_file_strerror(entry), 120) : "";
  zip_fclose(entry);
  if (bad) throw InputError(where + " is damaged (" + why + ")");
  return text;
}

}  // namespace repro
