// Helpers for the config tests: the message of the InputError a config text raises.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace repro::test {

// The InputError message of parsing `yaml` as "bad.yaml", or "no error".
inline std::string config_error(const std::string& yaml,
                                const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "bad.yaml", overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

inline std::string recipe_path() {
  return std::string(REPRO_SOURCE_DIR) + "/configs/mnist_recipe.yaml";
}

// A small valid config; tests append to it or override it.
inline const std::string kSmall =
    "seed: 1\n"
    "data:\n"
    "  dataset: mnist\n"
    "  batch_size: 8\n"
    "model:\n"
    "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n"
    "  - flatten: {}\n"
    "  - dense: {units: 10, activation: softmax}\n"
    "training:\n"
    "  epochs: 1\n";

}  // namespace repro::test
