// A tensor on the host with its name: what a model exports and imports, and what safetensors
// files hold. Data only; formats and layouts belong to their modules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repro {

struct NamedTensor {
  std::string name;            // "conv2d/kernel"
  std::vector<int64_t> shape;  // row-major; a model's exports use the Keras layout
  std::vector<float> data;     // float32
};

}  // namespace repro
