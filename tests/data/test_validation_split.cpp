// data.validation_split: Keras's train_validation_split for arrays (the last images, split at
// floor(n * (1 - fraction)) in double, before shuffling), after data.limit, and its refusals.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"
#include "data/dataset.h"
#include "idx_files.h"

using namespace repro_test;

namespace {

// `n` 2x2x3 images whose bytes are all the image's index, labelled index % 10.
repro::Splits numbered(int n) {
  repro::Splits s;
  s.train.count = n;
  s.train.rows = s.train.cols = 2;
  s.train.channels = 3;
  for (int i = 0; i < n; ++i) {
    s.train.images.insert(s.train.images.end(), 12, static_cast<uint8_t>(i));
    s.train.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return s;
}

std::string split_error(int n, double fraction) {
  repro::Splits s = numbered(n);
  try {
    repro::hold_out_validation(s, fraction);
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("validation_split holds out the last images in order, as Keras splits arrays") {
  // (n, fraction, training images Keras keeps): 0.7 of 10 is 3.0000000000000004 -> 3.
  const std::vector<std::tuple<int, double, int>> cases = {
      {10, 0.2, 8}, {10, 0.25, 7}, {3, 0.1, 2}, {10, 0.3, 7}, {10, 0.7, 3}, {512, 0.25, 384}};
  for (const auto& [n, fraction, kept] : cases) {
    INFO(n << " images, validation_split " << fraction);
    repro::Splits s = numbered(n);
    repro::hold_out_validation(s, fraction);
    REQUIRE(s.train.count == kept);
    REQUIRE(s.train.images.size() == static_cast<size_t>(kept) * 12);
    REQUIRE(s.train.labels.size() == static_cast<size_t>(kept));
    REQUIRE(s.validation.count == n - kept);
    REQUIRE(s.validation.channels == 3);
    REQUIRE(s.validation.rows == 2);
    for (int i = 0; i < n - kept; ++i) {
      REQUIRE(s.validation.images[static_cast<size_t>(i) * 12 + 11] ==
              static_cast<uint8_t>(kept + i));
      REQUIRE(s.validation.labels[i] == (kept + i) % 10);
    }
    REQUIRE(s.train.images.back() == static_cast<uint8_t>(kept - 1));
  }
  repro::Splits untouched = numbered(5);
  repro::hold_out_validation(untouched, 0);
  REQUIRE(untouched.train.count == 5);
  REQUIRE(untouched.validation.count == 0);
}

TEST_CASE("validation_split refuses a split that leaves either part empty, as Keras does") {
  // 10 * (1 - 0.9) is 0.9999999999999998 in double: Keras keeps 0 training images and refuses.
  CHECK(split_error(10, 0.9) ==
        "data.validation_split: 10 training images cannot be split into training and validation "
        "images by 0.9; use more images or another fraction");
  CHECK(split_error(1, 0.5).find("1 training images cannot be split") != std::string::npos);
  CHECK(split_error(100, 0.999).find("100 training images cannot be split") != std::string::npos);
  CHECK(split_error(11, 0.9).empty());
}

TEST_CASE("load_splits applies data.limit first, then validation_split") {
  const fs::path root = scratch_dir("validation_split");
  write_pattern_set(root, 40, 5, true);
  repro::DataConfig config;
  config.dir = root.string();
  config.limit = 20;
  config.validation_split = 0.25;
  const repro::Splits s = repro::load_splits(config);
  REQUIRE(s.train.count == 15);
  REQUIRE(s.validation.count == 5);
  REQUIRE(s.test.count == 5);
  const std::vector<uint8_t> images = pattern_images(20, 28, 28);
  REQUIRE(s.validation.images == std::vector<uint8_t>(images.begin() + 15 * 784, images.end()));
  REQUIRE(s.validation.labels == std::vector<uint8_t>{5, 6, 7, 8, 9});
  fs::remove_all(root);
}

TEST_CASE("dataset idx without test files reads a training split only") {
  const fs::path root = scratch_dir("idx_no_test");
  write_pattern_set(root, 12, 3, false);
  repro::DataConfig config;
  config.dataset = "idx";
  config.train_images = (root / "train-images-idx3-ubyte").string();
  config.train_labels = (root / "train-labels-idx1-ubyte").string();
  const repro::Splits s = repro::load_splits(config);
  REQUIRE(s.train.count == 12);
  REQUIRE(s.test.count == 0);
  REQUIRE(s.files.size() == 2);
  config.test_images = (root / "t10k-images-idx3-ubyte").string();
  REQUIRE_THROWS_WITH(repro::load_splits(config),
                      Catch::Contains("data.test_images with data.test_labels or neither"));
  fs::remove_all(root);
}
