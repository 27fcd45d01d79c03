// Datasets as uint8 arrays: IDX files (gzip or raw) found locally or downloaded and verified.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace repro {

struct Dataset {
  int64_t count = 0;
  int rows = 0, cols = 0;
  std::vector<uint8_t> images;  // (count, rows, cols) row-major
  std::vector<uint8_t> labels;  // (count), 0..9
};

struct Splits {
  Dataset train, test;
  std::vector<std::string> files;  // the four files used, for run.json
};

// Reads an IDX image file (magic 2051) or label file (magic 2049), gzip or raw.
// Throws InputError naming the file and the problem (wrong magic, truncated at byte N, ...).
Dataset read_idx(const std::string& images_path, const std::string& labels_path);

// Loads data.dataset: looks in data.dir, $REPRO_DATA_DIR/<dataset>/, ~/.cache/repro/datasets/<dataset>/
// (and /usr/share/datasets/fashion-mnist), else downloads into the cache (SHA-256 checked).
// Applies data.limit to the training split.
Splits load_splits(const DataConfig& data);

}  // namespace repro
