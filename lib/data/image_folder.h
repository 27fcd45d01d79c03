// dataset: image_folder, Keras's image_dataset_from_directory(labels="inferred") layout:
// directory/<class_name>/... image files. Classes are the folder's subfolders (not hidden) in
// sorted byte order, labelled 0, 1, ...; each class's files are found recursively and taken in
// sorted order of (folder path, file name), as Keras sorts os.walk, keeping the extensions Keras
// keeps (.png .jpg .jpeg .bmp .gif, any case). The files are read and their headers checked here;
// their pixels are decoded in the pipeline's map (data/image_decode.h).
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace repro {

struct ImageFolder {
  Dataset data;                          // encoded images, rows x cols x channels after decoding
  std::vector<std::string> class_names;  // label k is class_names[k]
  std::string sha256;                    // over the sorted relative paths and each file's SHA-256
};

// InputError naming the folder or file: no folder, no class folders, an empty class, more than
// 256 classes, a file that is not a PNG or JPEG (or is damaged in its header, or too large).
ImageFolder read_image_folder(const std::string& directory, int channels, int rows, int cols);

// The config's image_folder splits: data.directory, and data.test_directory when given (whose
// classes must be the same).
Splits read_image_folder_splits(const DataConfig& data);

}  // namespace repro
