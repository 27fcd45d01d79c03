// Fuzz target "png": the bytes as a PNG given to repro predict, decoded by libpng within the
// bounds set before any pixel buffer is allocated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/png.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  repro_fuzz::expect_input_error([&] {
    const repro::Dataset d =
        repro::parse_png_gray(std::string_view(reinterpret_cast<const char*>(data), size), "x.png");
    if (d.images.size() != static_cast<size_t>(d.rows) * d.cols)
      repro_fuzz::finding("a PNG's pixels do not fill its size");
  });
  return 0;
}
