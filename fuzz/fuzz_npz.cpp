// Fuzz target "npz": the bytes as a .npz given as dataset: npz, its four arrays read (libzip,
// member sizes bounded before inflating, strict .npy headers) and checked as images and labels.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/npz.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  repro_fuzz::expect_input_error([&] {
    const repro::Splits s =
        repro::parse_npz_splits(std::string_view(reinterpret_cast<const char*>(data), size),
                                "data.npz", {"x_train", "y_train", "x_test", "y_test"});
    if (s.train.images.size() != static_cast<size_t>(s.train.count) * s.train.rows * s.train.cols)
      repro_fuzz::finding("training images do not fill their shape");
  });
  return 0;
}
