// One image from a PNG file, for repro predict: 8-bit grayscale only, the pixels exactly as
// stored (an RGB or 16-bit PNG would need a conversion whose rounding is a choice; it is refused
// with the fix). Decoded with Debian's libpng; sizes are bounded before anything is allocated.
#pragma once

#include <string>
#include <string_view>

#include "data/dataset.h"

namespace repro {

// A Dataset of one image (label 0). InputError naming the file: not a PNG, damaged, not 8-bit
// grayscale, or over 16384 pixels a side.
Dataset parse_png_gray(std::string_view bytes, const std::string& file_label);
Dataset read_png_gray(const std::string& path);

}  // namespace repro
