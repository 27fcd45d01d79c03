// The config.json inside a Keras 3 `.keras` archive (a zip of config.json, metadata.json and
// model.weights.h5, as keras/src/saving/saving_lib.py writes it), read with Debian's libzip.
// Only the config is read; the weights stay in the archive.
#pragma once

#include <string>
#include <string_view>

namespace repro {

// The archive's config.json text. InputError naming the file for a file that is not a zip, has
// no config.json, or whose config.json is over 16 MiB uncompressed (checked before inflating).
std::string keras_archive_config(std::string_view zip_bytes, const std::string& file_label);
std::string read_keras_archive_config(const std::string& path);

}  // namespace repro
