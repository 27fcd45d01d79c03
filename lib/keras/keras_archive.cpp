// config.json through record/zip_reader, which bounds it before inflating.
#include "keras/keras_archive.h"

#include "core/error.h"
#include "core/fs.h"
#include "record/zip_reader.h"

namespace repro {

namespace {

constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;
constexpr int64_t kMaxArchiveBytes = int64_t{4} << 30;

}  // namespace

std::string keras_archive_config(std::string_view bytes, const std::string& file) {
  const ZipReader zip(bytes, file, ".keras archive");
  if (!zip.has("config.json"))
    throw InputError(file +
                     ": the archive holds no config.json; is it a .keras file Keras 3 "
                     "saved (model.save(\"model.keras\"))?");
  return zip.read("config.json", kMaxConfigBytes);
}

std::string read_keras_archive_config(const std::string& path) {
  return keras_archive_config(read_file(path, kMaxArchiveBytes), path);
}

}  // namespace repro
