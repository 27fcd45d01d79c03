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
  int channels = 1;
  std::vector<uint8_t> images;  // (count, rows, cols, channels) row-major, as Keras holds them
  std::vector<uint8_t> labels;  // (count), 0..255
  // Image files (image_folder, predict's PNG/JPEG): each image's encoded bytes, decoded to
  // `channels` and resized to rows x cols in the pipeline's map; `images` is then empty.
  std::vector<std::string> encoded;
  std::vector<std::string> names;  // (count with `encoded`) each file's path, for errors
  bool is_encoded() const { return !encoded.empty(); }
  // A table (dataset csv): (count, channels) float32 feature values, rows = cols = 1, used as
  // they are (no scaling); `images` is then empty.
  std::vector<float> features;
  bool is_table() const { return !features.empty(); }
  size_t image_size() const { return static_cast<size_t>(rows) * cols * channels; }
  // Keeps the first `n` images (data.limit).
  void keep_first(int64_t n) {
    if (n <= 0 || n >= count) return;
    count = n;
    if (is_encoded()) {
      encoded.resize(static_cast<size_t>(n));
      names.resize(static_cast<size_t>(n));
    } else if (is_table()) {
      features.resize(static_cast<size_t>(n) * image_size());
    } else {
      images.resize(static_cast<size_t>(n) * image_size());
    }
    labels.resize(static_cast<size_t>(n));
  }
};

// "28x28" or "32x32x3": an image's size for messages.
std::string image_shape_text(const Dataset& d);

struct Splits {
  Dataset train, test;             // test.count 0: the data has no test split
  Dataset validation;              // data.validation_split's images (count 0 without it)
  std::vector<std::string> files;  // the four files used, for run.json
};

// Reads an IDX image file (magic 2051) or label file (magic 2049), gzip or raw.
// Throws InputError naming the file and the problem (wrong magic, truncated at byte N, ...).
Dataset read_idx(const std::string& images_path, const std::string& labels_path);
// The same from the two files' bytes (gzip or raw); the paths only name the files in errors.
// A gzip file is inflated no further than its IDX header promises (at most 2 GiB), so a
// compression bomb is refused before it costs memory.
Dataset parse_idx(std::string images_file, const std::string& images_path, std::string labels_file,
                  const std::string& labels_path);

// Only the images of an IDX image file (labels all 0), for predict.
Dataset read_idx_images(const std::string& images_path);

// Loads data.dataset: looks in data.dir, $REPRO_DATA_DIR/<dataset>/,
// ~/.cache/repro/datasets/<dataset>/ (and /usr/share/datasets/fashion-mnist), else downloads into
// the cache (SHA-256 checked). Applies data.limit to the training split, then
// data.validation_split.
Splits load_splits(const DataConfig& data);

// Completes what the model's input needs from the data itself, where the config leaves it open:
// dataset csv's data.features from the table's header; dataset npz's data.channels and, for
// images that are not 28x28, data.resize (their own size) from x_train's header. Nothing for the
// other sources.
void resolve_input(RunConfig& config);

// Keras's validation_split for arrays: moves the last images of `s.train` (all but the first
// floor(n * (1 - validation_split))) into `s.validation`, in order. Nothing for 0; InputError when
// either part would be empty.
void hold_out_validation(Splits& s, double validation_split);

// One file of a known dataset: its name in the folder and its checksum as published: the
// SHA-256, or the MD5 where the publisher gives only that (CIFAR-10).
struct DatasetFile {
  std::string name;    // e.g. "train-images-idx3-ubyte.gz"
  std::string sha256;  // lowercase hex; "" when the publisher gives an MD5
  std::string md5 = "";
  const std::string& checksum() const { return md5.empty() ? sha256 : md5; }
  const char* checksum_kind() const { return md5.empty() ? "SHA-256" : "MD5"; }
};

// The four files of `dataset` (mnist | fashion_mnist) in the order train images, train labels,
// test images, test labels. Throws InputError for an unknown name (and for idx, which has none).
const std::vector<DatasetFile>& dataset_files(const std::string& dataset);

// Training images of a known dataset as published (60,000 for mnist and fashion_mnist); 0 for a
// dataset whose size is known only once read (idx).
int64_t published_train_images(const std::string& dataset);

// The folders searched for `dataset`, in lookup order (dir first when not empty); they may not
// exist.
std::vector<std::string> dataset_search_dirs(const std::string& dataset, const std::string& dir);

// ~/.cache/repro/datasets/<dataset> ($XDG_CACHE_HOME/repro/datasets/<dataset> when set).
std::string dataset_cache_dir(const std::string& dataset);

struct FileCheck {
  std::string path;
  std::string sha256;  // the file's checksum of the published kind (MD5 for cifar10); "" missing
  std::string expected;
  bool present = false;
  bool ok = false;
  bool downloaded = false;  // fetch_dataset: this call downloaded it
};

// Downloads the missing or damaged files of `dataset` into `dir` (the cache when empty) from
// the official mirrors ($REPRO_DATA_MIRROR, a base URL, replaces them), each through a temp file
// and a rename after its SHA-256 matched. A mismatch deletes the download and throws
// RuntimeError; so does a network failure, saying how to provide the files instead.
// Returns the four files, all present and matching.
std::vector<FileCheck> fetch_dataset(const std::string& dataset, const std::string& dir);

// Checks the four files of `dataset` in `dir` (or, when empty, in the first search folder that
// holds any of them) against their published SHA-256. All four are reported missing (with the
// first search folder as their place) when no folder holds any.
std::vector<FileCheck> verify_dataset(const std::string& dataset, const std::string& dir);

}  // namespace repro
