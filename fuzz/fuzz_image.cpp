// Fuzz target "image": the bytes as an image file of image_folder or repro predict: the header
// probed (sizes bounded before any pixel is allocated), then decoded to grayscale and to RGB with
// libpng or libjpeg-turbo; a decoded image must fill its stated shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/image_decode.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    const repro::ImageHeader header = repro::probe_image(bytes, "x.img");
    for (int channels : {1, 3}) {
      const repro::DecodedImage d = repro::decode_image(bytes, "x.img", channels);
      if (d.rows != header.rows || d.cols != header.cols || d.channels != channels ||
          d.pixels.size() != static_cast<size_t>(d.rows) * d.cols * channels)
        repro_fuzz::finding("a decoded image does not fill its header's shape");
    }
  });
  return 0;
}
