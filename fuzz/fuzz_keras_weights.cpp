// Fuzz target "keras_weights": the bytes as a Keras .weights.h5 (HDF5, read with the HDF5
// library from memory) or a .keras zip holding one, read as `initial_weights` of a small model
// (conv2d, batch_normalization, dense): paths opened only through hard links, each dataset's
// shape checked before it is read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz_support.h"
#include "keras/keras_weights.h"

namespace {

const repro::RunConfig& model() {
  static const repro::RunConfig config = repro::parse_config(
      "model:\n"
      "  - conv2d: {filters: 2, kernel_size: 3}\n"
      "  - batch_normalization: {}\n"
      "  - global_average_pooling2d: {}\n"
      "  - dense: {units: 3, activation: softmax}\n",
      "fuzz.yaml");
  return config;
}

const std::vector<repro::NamedTensor>& expected() {
  static const std::vector<repro::NamedTensor> tensors = {
      {"conv2d/kernel", {3, 3, 1, 2}, {}},
      {"conv2d/bias", {2}, {}},
      {"batch_normalization/gamma", {2}, {}},
      {"batch_normalization/beta", {2}, {}},
      {"batch_normalization/moving_mean", {2}, {}},
      {"batch_normalization/moving_variance", {2}, {}},
      {"dense/kernel", {2, 3}, {}},
      {"dense/bias", {3}, {}}};
  return tensors;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  repro_fuzz::expect_input_error([&] {
    const auto tensors =
        repro::keras_weights_from_bytes(std::string_view(reinterpret_cast<const char*>(data), size),
                                        "model.weights.h5", model(), expected());
    if (tensors.size() != expected().size())
      repro_fuzz::finding("weights read without every tensor of the model");
    for (size_t i = 0; i < tensors.size(); ++i) {
      size_t count = 1;
      for (const int64_t d : expected()[i].shape) count *= static_cast<size_t>(d);
      if (tensors[i].data.size() != count) repro_fuzz::finding("a tensor does not fill its shape");
    }
  });
  return 0;
}
