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

namespace repro {

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

// Decompressed IDX files larger than this are refused: no dataset repro reads comes near it, and
// it bounds what a gzip bomb can make the reader allocate.
constexpr uint64_t kMaxIdxBytes = uint64_t{2} << 30;
// deflate expands at most 1032:1, so a stream cannot produce more than this per compressed byte.
constexpr uint64_t kMaxDeflateRatio = 1032;

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
         static_cast<uint8_t>(bytes[1]) == 0x8b;
}

// Inflates a gzip file on demand, so the reader decompresses only as much as the IDX header
// promises (plus one byte, to see whether more follows). Concatenated gzip members are read as
// one stream, as gunzip does; bytes after the last member that are not gzip are ignored.
class Gunzip {
 public:
  Gunzip(const std::string& path, std::string_view compressed) : path_(path) {
    std::memset(&zs_, 0, sizeof(zs_));
    // 15 + 16: a gzip wrapper only (not zlib), with the largest window.
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) {
      throw RuntimeError(path + ": zlib inflateInit2 failed");
    }
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    remaining_in_ = compressed.size();
    feed_more();
  }
  ~Gunzip() { inflateEnd(&zs_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  // Appends up to `n` decompressed bytes to `out`; fewer only where the stream ends.
  uint64_t read(std::string& out, uint64_t n) {
    uint64_t got = 0;
    while (got < n && !ended_) {
      const size_t before = out.size();
      const uint64_t step = std::min<uint64_t>(n - got, kChunk);
      out.resize(before + step);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      zs_.avail_out = static_cast<uInt>(step);
      if (zs_.avail_in == 0 && remaining_in_ > 0) feed_more();
      const uLong consumed_before = zs_.total_in;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const uint64_t produced = step - zs_.avail_out;
      out.resize(before + produced);
      got += produced;
      if (rc == Z_STREAM_END) {
        next_member();
      } else if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && remaining_in_ == 0) {
        fail("the gzip stream ends early (file cut short?)");
      } else if (rc == Z_BUF_ERROR && produced == 0 && zs_.total_in == consumed_before) {
        fail("corrupt gzip data (zlib makes no progress)");  // never loop without progress
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        fail(std::string("corrupt gzip data (zlib: ") +
             (zs_.msg ? zs_.msg : "error " + std::to_string(rc)) + ")");
      }
    }
    return got;
  }

 private:
  static constexpr uint64_t kChunk = uint64_t{1} << 20;

  // Hands zlib the next compressed bytes (avail_in is 32-bit: a huge file goes in pieces).
  void feed_more() {
    const uInt next = static_cast<uInt>(std::min<uint64_t>(remaining_in_, UINT32_MAX));
    zs_.avail_in = next;
    remaining_in_ -= next;
  }
  // After one member ends: go on with the next member if one follows, else stop.
  void next_member() {
    if (zs_.avail_in == 0 && remaining_in_ > 0) feed_more();
    if (zs_.avail_in >= 2 && zs_.next_in[0] == 0x1f && zs_.next_in[1] == 0x8b &&
        inflateReset(&zs_) == Z_OK) {
      return;
    }
    ended_ = true;
  }
  [[noreturn]] void fail(const std::string& why) {
    throw InputError(path_ + ": " + why + " at compressed byte " + std::to_string(zs_.total_in) +
                     "; delete it and fetch it again (repro data fetch)");
  }

  std::string path_;
  z_stream zs_;
  uint64_t remaining_in_ = 0;  // compressed bytes not yet handed to zlib
  bool ended_ = false;
};

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
