// dataset: npz: the arrays of a NumPy .npz (numpy.savez or savez_compressed, as Keras's own
// mnist.npz): uint8 images (N, H, W) or (N, H, W, C) and integer labels (N) for the training and
// (optionally) the test split. The zip is read with Debian's libzip; every member's size is checked
// against a bound before it is inflated, and every array's header by the strict .npy reader.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "data/dataset.h"

namespace repro {

// Reads `keys` (x_train, y_train, x_test, y_test names) from the .npz at `path`. InputError
// naming the file and the member: not a zip, a missing array (listing those there are), a member
// over its bound, a dtype or shape that is not images or labels, a label outside 0..255, counts
// that differ, or training and test images of other sizes.
Splits read_npz_splits(const std::string& path, const std::array<std::string, 4>& keys);
// The training images' (H, W, C) from the .npz's x_train header (the model's input, before the
// arrays are read), with the same checks.
std::array<int, 3> npz_image_shape(const std::string& path, const std::string& x_train);
// The same over the file's bytes in memory; `file_label` names it in errors.
Splits parse_npz_splits(std::string_view bytes, const std::string& file_label,
                        const std::array<std::string, 4>& keys);

}  // namespace repro
