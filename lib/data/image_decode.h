// PNG and JPEG images decoded as TensorFlow's decode_image does for Keras's
// image_dataset_from_directory and load_img: libpng (palette expanded, alpha stripped, color to
// gray with png_set_rgb_to_gray's 0.299/0.587 weights, gray to RGB by copying) and libjpeg-turbo
// (TensorFlow's defaults: the fast integer IDCT, fancy upsampling, the library's own color
// conversion). Both Debian libraries; sizes are bounded from the header before any pixel is
// allocated, and every failure is an InputError naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

inline constexpr int kMaxImageSide = 16384;
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;
inline constexpr int64_t kMaxImageFileBytes = int64_t{64} << 20;  // one image file, read whole

enum class ImageFormat { png, jpeg, bmp, gif, unknown };

// The format by its signature (not the file's name).
ImageFormat sniff_image(std::string_view bytes);

struct ImageHeader {
  ImageFormat format = ImageFormat::unknown;
  int rows = 0, cols = 0;
};

// The header only: the format and the size. InputError naming `file` for bytes that are not a PNG
// or JPEG, a damaged header, or a size over kMaxImageSide a side or kMaxImagePixels in all.
ImageHeader probe_image(std::string_view bytes, const std::string& file);

struct DecodedImage {
  int rows = 0, cols = 0, channels = 0;
  std::vector<uint8_t> pixels;  // (rows, cols, channels)
};

// The pixels as `channels` (1 grayscale or 3 RGB) 8-bit values. InputError naming `file` for
// anything probe_image refuses, damaged data, a 16-bit PNG or a CMYK JPEG (with the fix).
DecodedImage decode_image(std::string_view bytes, const std::string& file, int channels);

}  // namespace repro
