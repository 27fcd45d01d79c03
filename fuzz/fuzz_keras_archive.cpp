// Fuzz target "keras_archive": the bytes as a .keras archive given to repro import keras: the zip
// opened with libzip, config.json's size checked before it is inflated, then converted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "keras/keras_archive.h"
#include "keras/keras_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  repro_fuzz::expect_input_error([&] {
    const std::string json = repro::keras_archive_config(
        std::string_view(reinterpret_cast<const char*>(data), size), "model.keras");
    repro::keras_json_to_config(json, "model.keras (config.json)");
  });
  return 0;
}
