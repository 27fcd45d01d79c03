// libzip over the archive's bytes in memory: find config.json, check its size, inflate it.
#include "keras/keras_archive.h"

#include <zip.h>

#include <memory>

#include "core/error.h"
#include "core/fs.h"

namespace repro {

namespace {

constexpr zip_uint64_t kMaxConfigBytes = zip_uint64_t{16} << 20;
constexpr int64_t kMaxArchiveBytes = int64_t{4} << 30;

}  // namespace

std::string keras_archive_config(std::string_view bytes, const std::string& file) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) throw RuntimeError(file + ": libzip: " + zip_error_strerror(&error));
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (!archive) {
    const std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    throw InputError(file + ": not a .keras archive (a zip file): " + clipped(why, 120));
  }
  std::unique_ptr<zip_t, void (*)(zip_t*)> owner(archive, [](zip_t* z) { zip_discard(z); });
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat(archive, "config.json", 0, &stat) != 0)
    throw InputError(file +
                     ": the archive holds no config.json; is it a .keras file Keras 3 "
                     "saved (model.save(\"model.keras\"))?");
  if (!(stat.valid & ZIP_STAT_SIZE) || stat.size > kMaxConfigBytes)
    throw InputError(file + ": config.json claims " + std::to_string(stat.size) +
                     " bytes uncompressed, over the 16 MiB a model's config takes");
  // Stored members are their own size; deflate expands at most 1032 times.
  if (!(stat.valid & ZIP_STAT_COMP_SIZE) || !(stat.valid & ZIP_STAT_COMP_METHOD) ||
      stat.comp_size > bytes.size() ||
      (stat.comp_method == ZIP_CM_STORE ? stat.size != stat.comp_size
                                        : stat.size / 1032 > stat.comp_size + 1024))
    throw InputError(file + ": config.json claims " + std::to_string(stat.size) + " bytes from " +
                     std::to_string(stat.comp_size) +
                     " compressed; the archive is damaged or a compression bomb");
  zip_file_t* entry = zip_fopen(archive, "config.json", 0);
  if (!entry)
    throw InputError(file + ": config.json cannot be opened (" +
                     clipped(zip_strerror(archive), 120) + ")");
  std::string text(static_cast<size_t>(stat.size), '\0');
  const zip_int64_t got = zip_fread(entry, text.data(), stat.size);
  const bool bad = got < 0 || static_cast<zip_uint64_t>(got) != stat.size;
  const std::string why = bad ? clipped(zip_file_strerror(entry), 120) : "";
  zip_fclose(entry);
  if (bad) throw InputError(file + ": config.json is damaged (" + why + ")");
  return text;
}

std::string read_keras_archive_config(const std::string& path) {
  return keras_archive_config(read_file(path, kMaxArchiveBytes), path);
}

}  // namespace repro
