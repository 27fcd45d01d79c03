// CIFAR-10's binary version (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
// cifar-10-binary.tar.gz holding cifar-10-batches-bin/data_batch_1.bin ... data_batch_5.bin and
// test_batch.bin, each record 1 label byte (0..9) and 3072 pixel bytes, the red plane, then green,
// then blue, each 32x32 row-major. Read into Datasets of 32x32x3 images in Keras's HWC order
// (as keras.datasets.cifar10 gives them), the training split the five batches in order.
#pragma once

#include <string>
#include <string_view>

#include "data/dataset.h"

namespace repro {

// The archive's bytes (.tar.gz or .tar); `file` names it in errors. The tar is read member by
// member (ustar headers; other members skipped), inflating no more than the six batches need
// (each at most 10,000 records), so a bomb or a lying size is refused before it costs memory.
Splits parse_cifar10_archive(std::string_view bytes, const std::string& file);

// From a file: the archive, or a folder holding the six .bin files (an extracted archive).
// run.json's files list names what was read.
Splits read_cifar10(const std::string& path);

}  // namespace repro
