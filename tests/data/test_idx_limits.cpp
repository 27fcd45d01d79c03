// Hostile IDX files: gzip bombs inflate no further than the header promises, headers promising
// more than the reader takes are refused before any allocation, and in-memory parsing matches
// the file reader.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "idx_files.h"

using namespace repro_test;

namespace {

// `bytes` then `zeros` zero bytes, gzip-compressed in memory (~1000:1 on zeros).
std::string gzip_with_zeros(const std::string& bytes, size_t zeros) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  const std::string block(1 << 20, '\0');
  auto push = [&](const std::string& in, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    char buffer[1 << 16];
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer);
      zs.avail_out = sizeof buffer;
      deflate(&zs, flush);
      out.append(buffer, sizeof buffer - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  push(bytes, Z_NO_FLUSH);
  for (size_t left = zeros; left > 0;) {
    const size_t n = std::min(left, block.size());
    push(block.substr(0, n), Z_NO_FLUSH);
    left -= n;
  }
  push("", Z_FINISH);
  deflateEnd(&zs);
  return out;
}

std::string idx_error(const std::string& images, const std::string& labels) {
  try {
    repro::parse_idx(images, "images.gz", labels, "labels.gz");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kLabels = idx_bytes(2049, {10}, pattern_labels(10));

}  // namespace

TEST_CASE("a gzip IDX bomb is refused after inflating only what its header promises") {
  // 10 images of 28x28 promised, 256 MiB of zeros delivered (about 256 KB compressed). Inflated
  // whole, the message would count the extra bytes; the reader stops one byte past the promise.
  const std::string bomb =
      gzip_with_zeros(idx_bytes(2051, {10, 28, 28}, pattern_images(10, 28, 28)), size_t{256} << 20);
  REQUIRE(bomb.size() < (size_t{1} << 20));
  CHECK(idx_error(bomb, kLabels) ==
        "images.gz: more unexpected bytes after the data (after gunzip) (the header promises 7856 "
        "bytes)");
}

TEST_CASE("a gzip IDX whose header promises more than 2 GiB is refused before inflating") {
  const std::string huge = gzip_with_zeros(idx_bytes(2051, {60000, 1000, 1000}, {}), 1 << 20);
  CHECK(idx_error(huge, kLabels) ==
        "images.gz: the header promises 60000000016 bytes (after gunzip), over the 2 GiB repro "
        "reads; is it an IDX images file?");
}

TEST_CASE("a gzip IDX cut inside its header or data says where it ends") {
  const std::string gz = gzip_with_zeros(idx_bytes(2051, {10, 28, 28}, {}), 28 * 28 * 10 - 100);
  CHECK(idx_error(gz, kLabels) ==
        "images.gz: truncated at byte 7756 (after gunzip): the header promises 7856 bytes; delete "
        "it and fetch it again");
  const std::string header_only = gzip_with_zeros(idx_bytes(2051, {10}, {}), 0);
  CHECK(idx_error(header_only, kLabels) ==
        "images.gz: truncated at byte 8 (after gunzip): the header needs 16 bytes");
}

TEST_CASE("a gzip IDX made of two gzip members is read as gunzip reads it") {
  const std::string images = idx_bytes(2051, {10, 28, 28}, pattern_images(10, 28, 28));
  const std::string two =
      gzip_with_zeros(images.substr(0, 3000), 0) + gzip_with_zeros(images.substr(3000), 0);
  const repro::Dataset d = repro::parse_idx(two, "images.gz", kLabels, "labels");
  CHECK(d.count == 10);
  CHECK(d.images == pattern_images(10, 28, 28));
}

TEST_CASE("parse_idx reads the bytes that read_idx reads from files") {
  const fs::path dir = scratch_dir("idx_parse");
  write_pattern_set(dir, 12, 3, true);
  const std::string images = (dir / "train-images-idx3-ubyte.gz").string();
  const std::string labels = (dir / "train-labels-idx1-ubyte.gz").string();
  const repro::Dataset from_files = repro::read_idx(images, labels);
  const repro::Dataset from_bytes =
      repro::parse_idx(repro::read_file(images), images, repro::read_file(labels), labels);
  CHECK(from_bytes.count == 12);
  CHECK(from_bytes.images == from_files.images);
  CHECK(from_bytes.labels == from_files.labels);
  fs::remove_all(dir);
}
