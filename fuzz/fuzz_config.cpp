// Fuzz target "config": YAML bytes through repro::parse_config, with --set overrides. The input
// is cut at NUL bytes: the first part is the YAML file, each later part one "key.path=value".
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = repro_fuzz::split_at_nul(data, size);
  const std::string yaml = parts.front();
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  repro_fuzz::expect_input_error([&] {
    repro::RunConfig config = repro::parse_config(yaml, "fuzz.yaml", overrides);
    // What train and summary do next with an accepted config.
    repro::infer_shapes(config);
    repro::flatten_config(config);
  });
  return 0;
}
