// libpng's read API over bytes in memory. libpng reports errors by longjmp, so the decoding
// function holds no C++ object across its setjmp: plain buffers the caller frees, and the error
// message stored in the caller's Source before the jump.
#include "data/png.h"

#include <png.h>

#include <csetjmp>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/fs.h"

namespace repro {

namespace {

constexpr png_uint_32 kMaxSide = 16384;
constexpr int64_t kMaxPngBytes = int64_t{256} << 20;

struct Source {
  std::string_view bytes;
  size_t at = 0;
  std::string error;  // libpng's message, when it failed
};

struct Decoded {
  unsigned char* pixels = nullptr;  // (height, width), malloc'ed; the caller frees it
  png_uint_32 width = 0, height = 0;
  int color = 0, depth = 0;
};

void read_bytes(png_structp png, png_bytep out, png_size_t count) {
  auto* src = static_cast<Source*>(png_get_io_ptr(png));
  if (count > src->bytes.size() - src->at) png_error(png, "truncated: the file ends early");
  std::memcpy(out, src->bytes.data() + src->at, count);
  src->at += count;
}

void on_error(png_structp png, png_const_charp message) {
  static_cast<Source*>(png_get_error_ptr(png))->error = message;
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

// False when libpng failed (src->error says why). Reads the pixels only of 8-bit grayscale.
bool decode(Source* src, Decoded* out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, src, on_error, on_warning);
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
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_set_read_fn(png, src, read_bytes);
  png_read_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  out->color = png_get_color_type(png, info);
  out->depth = png_get_bit_depth(png, info);
  if (out->color == PNG_COLOR_TYPE_GRAY && out->depth == 8) {
    out->pixels = static_cast<unsigned char*>(std::malloc(size_t{out->width} * out->height));
    rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * out->height));
    if (!out->pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 r = 0; r < out->height; ++r) rows[r] = out->pixels + size_t{r} * out->width;
    png_read_image(png, rows);
    png_read_end(png, nullptr);
  }
  png_destroy_read_struct(&png, &info, nullptr);
  std::free(rows);
  return true;
}

}  // namespace

Dataset parse_png_gray(std::string_view bytes, const std::string& file) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0)
    throw InputError(file + ": not a PNG file (no PNG signature)");
  Source src{bytes, 0, ""};
  Decoded out;
  if (!decode(&src, &out))
    throw InputError(file + ": damaged PNG (" + clipped(src.error, 120) + ")");
  if (!out.pixels)
    throw InputError(file + ": not 8-bit grayscale (PNG color type " + std::to_string(out.color) +
                     ", " + std::to_string(out.depth) + " bits); convert it to 8-bit grayscale, " +
                     "e.g. `convert IN -colorspace Gray -depth 8 OUT.png`");
  Dataset d;
  d.count = 1;
  d.rows = static_cast<int>(out.height);
  d.cols = static_cast<int>(out.width);
  d.images.assign(out.pixels, out.pixels + size_t{out.width} * out.height);
  std::free(out.pixels);
  d.labels.assign(1, 0);
  return d;
}

Dataset read_png_gray(const std::string& path) {
  return parse_png_gray(read_file(path, kMaxPngBytes), path);
}

}  // namespace repro
