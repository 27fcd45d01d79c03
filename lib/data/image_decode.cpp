// libpng and libjpeg report errors by longjmp, so each decoding function holds no C++ object
// across its setjmp: plain buffers freed on both paths, and the library's message copied into a
// fixed array of the caller's before the jump.
#include "data/image_decode.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace repro {

namespace {

const char* format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::png: return "PNG";
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::bmp: return "BMP";
    case ImageFormat::gif: return "GIF";
    default: return "unknown";
  }
}

void check_size(int64_t rows, int64_t cols, const std::string& file) {
  if (rows < 1 || cols < 1 || rows > kMaxImageSide || cols > kMaxImageSide ||
      rows * cols > kMaxImagePixels)
    throw InputError(file + ": an image of " + std::to_string(cols) + "x" + std::to_string(rows) +
                     " pixels, outside 1.." + std::to_string(kMaxImageSide) + " a side and " +
                     std::to_string(kMaxImagePixels) + " pixels");
}

// ---- PNG ----

struct PngSource {
  const unsigned char* bytes;
  size_t size, at;
  char error[160];
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t count) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (count > src->size - src->at) png_error(png, "truncated: the file ends early");
  std::memcpy(out, src->bytes + src->at, count);
  src->at += count;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->error, sizeof(src->error), "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

struct PngResult {
  unsigned char* pixels;  // malloc'ed (rows, cols, channels); null when only the header was read
  png_uint_32 cols, rows;
  int depth;
};

// False when libpng failed (src->error says why). `channels` 0 reads the header only; a 16-bit
// image reads the header only too (result depth 16).
bool png_decode(PngSource* src, int channels, PngResult* out) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, src, png_on_error, png_on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  png_bytep* volatile rows = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::free(rows);
    std::free(out->pixels);
    out->pixels = nullptr;
    return false;
  }
  if (!info) png_error(png, "out of memory");
  png_set_user_limits(png, kMaxImageSide, kMaxImageSide);
  png_set_read_fn(png, src, png_read_bytes);
  png_read_info(png, info);
  out->cols = png_get_image_width(png, info);
  out->rows = png_get_image_height(png, info);
  out->depth = png_get_bit_depth(png, info);
  if (channels > 0 && out->depth <= 8 && int64_t{out->rows} * out->cols <= kMaxImagePixels) {
    const int color = png_get_color_type(png, info);
    // TensorFlow's png decoding for channels 1 or 3: palette to RGB, low-depth gray to 8 bits,
    // alpha dropped, then color to gray (ITU-R 601 weights) or gray to RGB.
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && out->depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    const bool gray = !(color & PNG_COLOR_MASK_COLOR);
    if (channels == 1 && !gray) png_set_rgb_to_gray(png, 1, 0.299, 0.587);
    if (channels == 3 && gray) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != size_t{out->cols} * static_cast<size_t>(channels))
      png_error(png, "unexpected row size after conversion");
    out->pixels = static_cast<unsigned char*>(
        std::malloc(size_t{out->cols} * out->rows * static_cast<size_t>(channels)));
    rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * out->rows));
    if (!out->pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 r = 0; r < out->rows; ++r)
      rows[r] = out->pixels + size_t{r} * out->cols * static_cast<size_t>(channels);
    png_read_image(png, rows);
    png_read_end(png, nullptr);
  }
  png_destroy_read_struct(&png, &info, nullptr);
  std::free(rows);
  return true;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

void jpeg_on_message(j_common_ptr) {}  // warnings (corrupt data the library recovers from)

struct JpegResult {
  unsigned char* pixels;  // malloc'ed (rows, cols, channels); null when only the header was read
  JDIMENSION cols, rows;
  int components;
  J_COLOR_SPACE space;
  char error[JMSG_LENGTH_MAX];
};

bool jpeg_decode(const unsigned char* bytes, size_t size, int channels, JpegResult* out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.output_message = jpeg_on_message;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::free(out->pixels);
    out->pixels = nullptr;
    std::snprintf(out->error, sizeof(out->error), "%s", err.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  out->cols = cinfo.image_width;
  out->rows = cinfo.image_height;
  out->components = cinfo.num_components;
  out->space = cinfo.jpeg_color_space;
  const bool convertible = cinfo.jpeg_color_space != JCS_CMYK && cinfo.jpeg_color_space != JCS_YCCK;
  if (channels > 0 && convertible && cinfo.image_width <= JDIMENSION(kMaxImageSide) &&
      cinfo.image_height <= JDIMENSION(kMaxImageSide)) {
    // TensorFlow's decode_jpeg defaults: the fast integer IDCT and fancy upsampling.
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    cinfo.dct_method = JDCT_IFAST;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);
    const size_t stride = size_t{cinfo.output_width} * static_cast<size_t>(channels);
    out->pixels = static_cast<unsigned char*>(std::malloc(stride * cinfo.output_height));
    if (!out->pixels) std::longjmp(err.jump, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = out->pixels + stride * cinfo.output_scanline;
      if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
        std::snprintf(err.message, sizeof(err.message), "truncated: the file ends early");
        std::longjmp(err.jump, 1);
      }
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  return true;
}

std::string refusal(ImageFormat f, const std::string& file) {
  return file + ": a " + format_name(f) +
         " file, which repro does not decode; convert it to PNG (e.g. `convert IN OUT.png`)";
}

}  // namespace

ImageFormat sniff_image(std::string_view b) {
  const auto at = [&b](size_t i) { return static_cast<unsigned char>(b[i]); };
  if (b.size() >= 8 && png_sig_cmp(reinterpret_cast<png_const_bytep>(b.data()), 0, 8) == 0)
    return ImageFormat::png;
  if (b.size() >= 3 && at(0) == 0xFF && at(1) == 0xD8 && at(2) == 0xFF) return ImageFormat::jpeg;
  if (b.size() >= 2 && b.substr(0, 2) == "BM") return ImageFormat::bmp;
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a"))
    return ImageFormat::gif;
  return ImageFormat::unknown;
}

ImageHeader probe_image(std::string_view bytes, const std::string& file) {
  // A header read is a decode with no channels: the same checks, no pixels.
  const DecodedImage none = decode_image(bytes, file, 0);
  ImageHeader h;
  h.format = sniff_image(bytes);
  h.rows = none.rows;
  h.cols = none.cols;
  return h;
}

namespace {

// A decoder's result: the pixels it malloc'ed (null when only the header was read, or when it
// refused them), checked for size and for `refused` (a reason, else empty) before they are kept.
DecodedImage take(unsigned char* pixels, uint64_t rows, uint64_t cols, int channels,
                  const std::string& file, const std::string& refused) {
  const std::unique_ptr<unsigned char, void (*)(void*)> owned(pixels, &std::free);
  check_size(static_cast<int64_t>(rows), static_cast<int64_t>(cols), file);
  if (!refused.empty()) throw InputError(file + ": " + refused);
  DecodedImage d;
  d.rows = static_cast<int>(rows), d.cols = static_cast<int>(cols);
  if (channels > 0 && pixels) {
    d.channels = channels;
    d.pixels.assign(pixels, pixels + rows * cols * static_cast<uint64_t>(channels));
  }
  return d;
}

}  // namespace

DecodedImage decode_image(std::string_view bytes, const std::string& file, int channels) {
  const ImageFormat format = sniff_image(bytes);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (format == ImageFormat::png) {
    PngSource src{data, bytes.size(), 0, {}};
    PngResult out{nullptr, 0, 0, 0};
    if (!png_decode(&src, channels, &out))
      throw InputError(file + ": damaged PNG (" + clipped(src.error, 120) + ")");
    return take(out.pixels, out.rows, out.cols, channels, file,
                out.depth == 16 ? "a 16-bit PNG; convert it to 8 bits (e.g. `convert IN -depth 8 "
                                  "OUT.png`)"
                                : "");
  }
  if (format == ImageFormat::jpeg) {
    JpegResult out{nullptr, 0, 0, 0, JCS_UNKNOWN, {}};
    if (!jpeg_decode(data, bytes.size(), channels, &out))
      throw InputError(file + ": damaged JPEG (" + clipped(out.error, 120) + ")");
    const bool cmyk = out.space == JCS_CMYK || out.space == JCS_YCCK;
    return take(out.pixels, out.rows, out.cols, channels, file,
                cmyk ? "a CMYK JPEG; convert it to RGB (e.g. `convert IN -colorspace sRGB "
                       "OUT.jpg`)"
                     : "");
  }
  if (format == ImageFormat::unknown)
    throw InputError(file + ": not an image (no PNG or JPEG signature)");
  throw InputError(refusal(format, file));
}

}  // namespace repro
