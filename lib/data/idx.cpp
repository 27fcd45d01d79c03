// IDX files (LeCun's MNIST format), gzip-compressed or raw, read into a Dataset with every
// header field checked against the file's length. It does not look for files or download them
// (that is registry.cpp) and it keeps the pixels as uint8 (the pipeline converts them).
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"

namespace repro {

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
         static_cast<uint8_t>(bytes[1]) == 0x8b;
}

// Inflates a whole gzip member; any zlib failure is an InputError naming the file.
std::string gunzip(const std::string& path, const std::string& compressed) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 16: a gzip wrapper only (not zlib), with the largest window.
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    throw RuntimeError(path + ": zlib inflateInit2 failed");
  }
  std::string out;
  // The gzip trailer's ISIZE (size mod 2^32) is a good first guess for the output size, when
  // plausible: deflate cannot expand more than 1032:1, and a damaged file's "ISIZE" is noise.
  size_t guess = compressed.size() * 4;
  if (compressed.size() >= 18) {
    const auto* t = reinterpret_cast<const uint8_t*>(compressed.data() + compressed.size() - 4);
    const size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<size_t>(t[3]) << 24);
    if (isize > 0 && isize <= compressed.size() * 1032) guess = isize;
  }
  out.resize(guess);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // only needs more room
    std::string why = rc == Z_BUF_ERROR ? "the gzip stream ends early (file cut short?)"
                                        : std::string("corrupt gzip data (zlib: ") +
                                              (zs.msg ? zs.msg : "error " + std::to_string(rc)) +
                                              ")";
    inflateEnd(&zs);
    throw InputError(path + ": " + why + " at compressed byte " + std::to_string(zs.total_in) +
                     "; delete it and fetch it again (repro data fetch)");
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

uint32_t big_endian_u32(const std::string& bytes, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + at);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct IdxContent {
  std::vector<uint32_t> dims;
  std::string bytes;     // the whole decompressed file
  size_t data_offset = 0;
  bool gzip = false;
};

// Reads `path`, checks its magic against `magic` and its length against its dimensions.
IdxContent read_idx_file(const std::string& path, uint32_t magic, const char* what) {
  std::string raw = read_file(path);
  IdxContent c;
  c.gzip = is_gzip(raw);
  c.bytes = c.gzip ? gunzip(path, raw) : std::move(raw);
  const std::string where = c.gzip ? " (after gunzip)" : "";
  if (c.bytes.size() < 4) {
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
  if (c.bytes.size() < header) {
    throw InputError(path + ": truncated at byte " + std::to_string(c.bytes.size()) + where +
                     ": the header needs " + std::to_string(header) + " bytes");
  }
  size_t expected = header;
  for (size_t d = 0; d < ndims; ++d) {
    c.dims.push_back(big_endian_u32(c.bytes, 4 + 4 * d));
    if (c.dims.back() == 0) {
      throw InputError(path + ": dimension " + std::to_string(d) + " is 0 in the header");
    }
  }
  size_t payload = 1;
  bool overflow = false;
  for (uint32_t d : c.dims) overflow = overflow || __builtin_mul_overflow(payload, d, &payload);
  overflow = overflow || __builtin_add_overflow(expected, payload, &expected);
  if (overflow || c.bytes.size() < expected) {
    throw InputError(path + ": truncated at byte " + std::to_string(c.bytes.size()) + where +
                     ": the header promises " +
                     (overflow ? std::string("more than 2^64") : std::to_string(expected)) +
                     " bytes; delete it and fetch it again");
  }
  if (c.bytes.size() > expected) {
    throw InputError(path + ": " + std::to_string(c.bytes.size() - expected) +
                     " unexpected bytes after the data" + where + " (the header promises " +
                     std::to_string(expected) + " bytes)");
  }
  c.data_offset = header;
  return c;
}

}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path) {
  IdxContent images = read_idx_file(images_path, kImagesMagic, "images");
  IdxContent labels = read_idx_file(labels_path, kLabelsMagic, "labels");
  if (images.dims[0] != labels.dims[0]) {
    throw InputError(images_path + ": count mismatch: " + std::to_string(images.dims[0]) +
                     " images but " + labels_path + " holds " + std::to_string(labels.dims[0]) +
                     " labels");
  }
  Dataset d;
  d.count = images.dims[0];
  d.rows = static_cast<int>(images.dims[1]);
  d.cols = static_cast<int>(images.dims[2]);
  const auto* label_bytes = reinterpret_cast<const uint8_t*>(labels.bytes.data() + labels.data_offset);
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
