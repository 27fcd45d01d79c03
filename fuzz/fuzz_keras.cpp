// Fuzz target "keras": the bytes as the JSON of a Keras model, converted as `repro import keras`
// does; a conversion that succeeds must give a config the loader reads back (the importer checks
// that itself) whose model is not empty.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"
#include "keras/keras_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    const std::string yaml = repro::keras_json_to_config(text, "model.json");
    if (repro::parse_config(yaml, "converted.yaml").model.empty())
      repro_fuzz::finding("a converted config has no layers");
  });
  return 0;
}
