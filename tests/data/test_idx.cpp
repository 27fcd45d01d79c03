// The IDX reader: good files (gzip and raw), every kind of damaged file refused with a message
// naming the file and the problem, and the real MNIST files when this machine has them.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <array>

#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "idx_files.h"

using namespace repro_test;

namespace {

// Expects read_idx to throw an InputError whose message contains every one of `parts`.
void require_refused(const fs::path& images, const fs::path& labels,
                     const std::vector<std::string>& parts) {
  try {
    repro::read_idx(images.string(), labels.string());
    FAIL("read_idx accepted a damaged file");
  } catch (const repro::InputError& e) {
    const std::string message = e.what();
    INFO(message);
    for (const auto& part : parts) CHECK(message.find(part) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("read_idx reads gzip and raw files to the same arrays") {
  const fs::path dir = scratch_dir("idx_good");
  write_pattern_set(dir / "gz", 12, 3, true);
  write_pattern_set(dir / "raw", 12, 3, false);
  const auto gz = repro::read_idx((dir / "gz/train-images-idx3-ubyte.gz").string(),
                                  (dir / "gz/train-labels-idx1-ubyte.gz").string());
  const auto raw = repro::read_idx((dir / "raw/train-images-idx3-ubyte").string(),
                                   (dir / "raw/train-labels-idx1-ubyte").string());
  REQUIRE(gz.count == 12);
  REQUIRE(gz.rows == 28);
  REQUIRE(gz.cols == 28);
  REQUIRE(gz.images == pattern_images(12, 28, 28));
  REQUIRE(gz.labels == pattern_labels(12));
  REQUIRE(raw.images == gz.images);
  REQUIRE(raw.labels == gz.labels);
  fs::remove_all(dir);
}

TEST_CASE("read_idx refuses damaged files and names the file and the problem") {
  const fs::path dir = scratch_dir("idx_bad");
  const auto images = idx_bytes(2051, {10, 28, 28}, pattern_images(10, 28, 28));
  const auto labels = idx_bytes(2049, {10}, pattern_labels(10));
  write_raw(dir / "images", images);
  write_raw(dir / "labels", labels);

  SECTION("truncated image data") {
    write_raw(dir / "short", images.substr(0, 5000));
    require_refused(dir / "short", dir / "labels",
                    {(dir / "short").string(), "truncated at byte 5000"});
  }
  SECTION("truncated header") {
    write_raw(dir / "short", images.substr(0, 10));
    require_refused(dir / "short", dir / "labels",
                    {"truncated at byte 10", "header needs 16 bytes"});
  }
  SECTION("a header promising more bytes than fit in 64 bits") {
    write_raw(dir / "huge", idx_bytes(2051, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}));
    require_refused(dir / "huge", dir / "labels", {"truncated at byte 16", "more than 2^64"});
  }
  SECTION("truncated inside a gzip file") {
    write_gzip(dir / "images.gz", images);
    const std::string gz = repro::read_file(dir / "images.gz");
    write_raw(dir / "cut.gz", gz.substr(0, gz.size() / 2));
    require_refused(dir / "cut.gz", dir / "labels", {(dir / "cut.gz").string(), "ends early"});
  }
  SECTION("wrong magic: a labels file given as images") {
    require_refused(dir / "labels", dir / "labels",
                    {(dir / "labels").string(), "wrong magic number 2049", "expected 2051"});
  }
  SECTION("count mismatch between images and labels") {
    write_raw(dir / "labels9", idx_bytes(2049, {9}, pattern_labels(9)));
    require_refused(dir / "images", dir / "labels9", {"count mismatch", "10 images", "9 labels"});
  }
  SECTION("label 10 is out of range") {
    auto bad = pattern_labels(10);
    bad[6] = 10;
    write_raw(dir / "labels10", idx_bytes(2049, {10}, bad));
    require_refused(dir / "images", dir / "labels10",
                    {(dir / "labels10").string(), "label 10 at index 6", "out of range 0..9"});
  }
  SECTION("gzip garbage") {
    std::string garbage = "\x1f\x8b";
    garbage += std::string(200, 'x');
    write_raw(dir / "garbage.gz", garbage);
    require_refused(dir / "garbage.gz", dir / "labels", {(dir / "garbage.gz").string(), "gzip"});
  }
  SECTION("bytes after the data") {
    write_raw(dir / "long", images + "extra");
    require_refused(dir / "long", dir / "labels", {"5 unexpected bytes after the data"});
  }
  SECTION("missing file") {
    require_refused(dir / "nope", dir / "labels", {(dir / "nope").string(), "cannot open"});
  }
  fs::remove_all(dir);
}

TEST_CASE("real MNIST has the known counts and first labels and label histogram") {
  const std::string mnist = real_mnist_dir();
  if (mnist.empty()) {
    REPRO_SKIP(
        "real MNIST not found: set REPRO_DATA_DIR (its mnist/ folder holds the four .gz files)");
  }
  const auto train =
      repro::read_idx(mnist + "/train-images-idx3-ubyte.gz", mnist + "/train-labels-idx1-ubyte.gz");
  const auto test =
      repro::read_idx(mnist + "/t10k-images-idx3-ubyte.gz", mnist + "/t10k-labels-idx1-ubyte.gz");
  REQUIRE(train.count == 60000);
  REQUIRE(test.count == 10000);
  REQUIRE(train.rows == 28);
  REQUIRE(train.cols == 28);
  REQUIRE(std::vector<int>(train.labels.begin(), train.labels.begin() + 10) ==
          std::vector<int>{5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
  REQUIRE(std::vector<int>(test.labels.begin(), test.labels.begin() + 10) ==
          std::vector<int>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9});
  std::array<int, 10> histogram{};
  for (uint8_t l : train.labels) ++histogram[l];
  REQUIRE(histogram ==
          std::array<int, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
}
