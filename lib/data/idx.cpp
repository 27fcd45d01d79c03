// IDX files (LeCun's MNIST format), gzip-compressed or raw, read into a Dataset with every
// header field checked against the file's length. It does not look for files or download them
// (that is registry.cpp) and it keeps the pixels as uint8 (the pipeline converts them).
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "data/gunzip.h"

namespace repro {

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

// Decompressed IDX files larger than this are refused: no dataset repro reads comes near it, and
// it bounds what a gzip bomb can make the reader allocate.
constexpr uint64_t kMaxIdxBytes = uint64_t{2} << 30;
uint32_t big_endian_u32(const std::string& bytes, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + at);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct IdxContent {
  std::vector<uint32_t> dims;
  std::string bytes;  // the whole decompressed file
  size_t data_offset = 0;
  bool gzip = false;
};

// Checks `file` (gzip or raw) as an IDX file with `magic`: its header, and its length against
// the dimensions. A gzip file is inflated only up to what the header promises, plus one byte.
IdxContent parse_idx_file(std::string file, const std::string& path, uint32_t magic,
                          const char* what) {
  IdxContent c;
  c.gzip = is_gzip(file);
  std::optional<Gunzip> gunzip;
  if (c.gzip) gunzip.emplace(path, file);
  // Makes the first `n` bytes available when the file has them; the decompressed size otherwise.
  auto have = [&](uint64_t n) {
    if (c.gzip && c.bytes.size() < n) gunzip->read(c.bytes, n - c.bytes.size());
    return c.bytes.size();
  };
  if (!c.gzip) c.bytes = std::move(file);
  const std::string where = c.gzip ? " (after gunzip)" : "";
  if (have(4) < 4) {
    throw InputError(path + ": truncated at byte " + std::to_string(c.bytes.size()) + where +
                     ": no IDX header; expected an IDX " + what + " file");
  }
  const uint32_t got = big_endian_u32(c.bytes, 0);
  if (got != magic) {
    throw InputError(path + ": wrong magic number " + std::to_string(got) + " (expected " +
                     std::to_string(magic) + " for an IDX " + what +
                     " file); is it the right file, or swapped with another?");
  }
  const size_t ndims = magic & 0xFF;
  const size_t header = 4 + 4 * ndims;
  if (have(header) < header) {
    throw InputError(path + ": truncated at byte " + std::to_string(c.bytes.size()) + where +
                     ": the header needs " + std::to_string(header) + " bytes");
  }
  for (size_t d = 0; d < ndims; ++d) {
    c.dims.push_back(big_endian_u32(c.bytes, 4 + 4 * d));
    if (c.dims.back() == 0) {
      throw InputError(path + ": dimension " + std::to_string(d) + " is 0 in the header");
    }
  }
  uint64_t payload = 1;
  bool overflow = false;
  for (uint32_t d : c.dims) overflow = overflow || __builtin_mul_overflow(payload, d, &payload);
  uint64_t expected = header;
  overflow = overflow || __builtin_add_overflow(expected, payload, &expected);
  const std::string promise = overflow ? std::string("more than 2^64") : std::to_string(expected);
  if (!overflow && expected > kMaxIdxBytes && (c.gzip || c.bytes.size() >= expected)) {
    throw InputError(path + ": the header promises " + promise + " bytes" + where + ", over the " +
                     std::to_string(kMaxIdxBytes >> 30) + " GiB repro reads; is it an IDX " + what +
                     " file?");
  }
  if (c.gzip && !overflow && expected <= kMaxIdxBytes) {
    // Room for what the header promises, but never more than the stream could expand to.
    c.bytes.reserve(static_cast<size_t>(
        std::min<uint64_t>(expected + 1, header + file.size() * kMaxDeflateRatio)));
    have(expected + 1);
  }
  if (overflow || c.bytes.size() < expected) {
    throw InputError(path + ": truncated at byte " + std::to_string(c.bytes.size()) + where +
                     ": the header promises " + promise + " bytes; delete it and fetch it again");
  }
  if (c.bytes.size() > expected) {
    const std::string extra =
        c.gzip ? std::string("more") : std::to_string(c.bytes.size() - expected);
    throw InputError(path + ": " + extra + " unexpected bytes after the data" + where +
                     " (the header promises " + std::to_string(expected) + " bytes)");
  }
  c.data_offset = header;
  return c;
}

}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path) {
  return parse_idx(read_file(images_path, kMaxIdxBytes), images_path,
                   read_file(labels_path, kMaxIdxBytes), labels_path);
}

Dataset read_idx_images(const std::string& images_path) {
  IdxContent images =
      parse_idx_file(read_file(images_path, kMaxIdxBytes), images_path, kImagesMagic, "images");
  Dataset d;
  d.count = images.dims[0];
  d.rows = static_cast<int>(images.dims[1]);
  d.cols = static_cast<int>(images.dims[2]);
  const auto* pixels = reinterpret_cast<const uint8_t*>(images.bytes.data() + images.data_offset);
  d.images.assign(pixels, pixels + d.count * d.rows * d.cols);
  d.labels.assign(static_cast<size_t>(d.count), 0);
  return d;
}

Dataset parse_idx(std::string images_file, const std::string& images_path, std::string labels_file,
                  const std::string& labels_path) {
  IdxContent images = parse_idx_file(std::move(images_file), images_path, kImagesMagic, "images");
  IdxContent labels = parse_idx_file(std::move(labels_file), labels_path, kLabelsMagic, "labels");
  if (images.dims[0] != labels.dims[0]) {
    throw InputError(images_path + ": count mismatch: " + std::to_string(images.dims[0]) +
                     " images but " + labels_path + " holds " + std::to_string(labels.dims[0]) +
                     " labels");
  }
  Dataset d;
  d.count = images.dims[0];
  d.rows = static_cast<int>(images.dims[1]);
  d.cols = static_cast<int>(images.dims[2]);
  const auto* label_bytes =
      reinterpret_cast<const uint8_t*>(labels.bytes.data() + labels.data_offset);
  for (int64_t i = 0; i < d.count; ++i) {
    if (label_bytes[i] > 9) {
      throw InputError(labels_path + ": label " + std::to_string(label_bytes[i]) + " at index " +
                       std::to_string(i) + " (byte " + std::to_string(labels.data_offset + i) +
                       ") is out of range 0..9");
    }
  }
  d.labels.assign(label_bytes, label_bytes + d.count);
  const auto* pixels = reinterpret_cast<const uint8_t*>(images.bytes.data() + images.data_offset);
  d.images.assign(pixels, pixels + d.count * d.rows * d.cols);
  return d;
}

}  // namespace repro
