// Bounded gzip inflation for the dataset readers (IDX files, CIFAR-10's tar.gz): zlib, on
// demand, so a reader decompresses only what its format promises.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"

namespace repro {

// deflate expands at most 1032:1, so a stream cannot produce more than this per compressed byte.
inline constexpr uint64_t kMaxDeflateRatio = 1032;

inline bool is_gzip(std::string_view bytes) {
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

}  // namespace repro
