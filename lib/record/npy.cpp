// The .npy reader and writer. Every size in the header is checked (64-bit, overflow-safe)
// against the bytes present before anything is copied.
#include "record/npy.h"

#include <cstring>

#include "core/error.h"
#include "core/fs.h"

namespace repro {

namespace {

constexpr int64_t kMaxNpyBytes = int64_t{4} << 30;
constexpr size_t kMaxHeaderBytes = 1 << 16;
constexpr size_t kMaxDims = 8;

[[noreturn]] void fail(const std::string& file, const std::string& message) {
  throw InputError(file + ": " + message + "; is it a .npy file written by numpy.save?");
}

// A tiny reader over the header's dict literal, which numpy writes in one fixed form.
class HeaderReader {
 public:
  HeaderReader(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) ++at_;
  }
  bool take(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail(file_, std::string("the header expects '") + c + "' at byte " + place());
  }
  std::string quoted() {
    skip_space();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"'))
      fail(file_, "the header expects a quoted string at byte " + place());
    const char quote = text_[at_++];
    const size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) fail(file_, "the header has an unterminated string");
    std::string out(text_.substr(at_, end - at_));
    at_ = end + 1;
    return out;
  }
  std::string word() {
    skip_space();
    const size_t start = at_;
    while (at_ < text_.size() &&
           ((text_[at_] >= 'A' && text_[at_] <= 'Z') || (text_[at_] >= 'a' && text_[at_] <= 'z')))
      ++at_;
    return std::string(text_.substr(start, at_ - start));
  }
  int64_t integer() {
    skip_space();
    int64_t value = 0;
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      if (value > (INT64_MAX - 9) / 10) fail(file_, "a dimension of the shape is too large");
      value = value * 10 + (text_[at_++] - '0');
    }
    if (at_ == start) fail(file_, "the shape expects an integer at byte " + place());
    if (at_ < text_.size() && text_[at_] == 'L') ++at_;  // Python 2's long suffix
    return value;
  }
  bool done() {
    skip_space();
    return at_ == text_.size();
  }

 private:
  std::string place() const { return std::to_string(at_); }
  std::string_view text_;
  const std::string& file_;
  size_t at_ = 0;
};

size_t item_size(const std::string& descr) {
  if (descr == "|u1" || descr == "<u1" || descr == "|i1") return 1;
  if (descr == "<f4" || descr == "<i4") return 4;
  if (descr == "<f8" || descr == "<i8") return 8;
  return 0;
}

}  // namespace

NpyArray parse_npy(std::string_view content, const std::string& file) {
  if (content.size() < 10 || content.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    fail(file, "no .npy magic (\\x93NUMPY) at the start");
  const int major = static_cast<unsigned char>(content[6]);
  size_t header_len = 0, header_at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(content[8]) |
                 static_cast<size_t>(static_cast<unsigned char>(content[9])) << 8;
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (content.size() < 12) fail(file, "truncated in the header length");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(content[8 + i])) << (8 * i);
    header_at = 12;
  } else {
    fail(file, "format version " + std::to_string(major) + " is not 1, 2 or 3");
  }
  if (header_len > kMaxHeaderBytes)
    fail(file, "the header claims " + std::to_string(header_len) + " bytes, over 64 KiB");
  if (header_at + header_len > content.size())
    fail(file, "truncated: the header runs past the end of the file");

  HeaderReader header(content.substr(header_at, header_len), file);
  NpyArray out;
  bool have_descr = false, have_order = false, have_shape = false;
  header.expect('{');
  while (!header.take('}')) {
    const std::string key = header.quoted();
    header.expect(':');
    if (key == "descr") {
      out.descr = header.quoted();
      have_descr = true;
    } else if (key == "fortran_order") {
      const std::string value = header.word();
      if (value != "False") {
        fail(file, "fortran_order is " + clipped(value) +
                       "; save a C-order array (numpy.ascontiguousarray)");
      }
      have_order = true;
    } else if (key == "shape") {
      header.expect('(');
      while (!header.take(')')) {
        if (out.shape.size() == kMaxDims) fail(file, "the shape has more than 8 dimensions");
        out.shape.push_back(header.integer());
        if (!header.take(',')) {
          header.expect(')');
          break;
        }
      }
      have_shape = true;
    } else {
      fail(file, "unknown header key " + clipped(key));
    }
    if (!header.take(',')) {
      header.expect('}');
      break;
    }
  }
  if (!header.done()) fail(file, "bytes after the header's dict");
  if (!have_descr || !have_order || !have_shape)
    fail(file, "the header lacks descr, fortran_order or shape");
  const size_t item = item_size(out.descr);
  if (item == 0)
    fail(file, "dtype " + clipped(out.descr) +
                   " is not uint8 (|u1), int8, int32, int64, float32 (<f4) or float64 (<f8)");
  uint64_t bytes = item;
  for (int64_t d : out.shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
      fail(file, "the shape's size overflows 64 bits");
  const size_t data_at = header_at + header_len;
  if (bytes != content.size() - data_at)
    fail(file, "the shape promises " + std::to_string(bytes) + " data bytes but the file holds " +
                   std::to_string(content.size() - data_at));
  out.data.assign(content.substr(data_at));
  return out;
}

NpyArray read_npy(const std::string& path) {
  return parse_npy(read_file(path, kMaxNpyBytes), path);
}

std::string npy_float32(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    shape_text += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
  if (shape.size() == 1) shape_text += ",";
  shape_text += ")";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // numpy pads the header with spaces and a newline so the data starts at a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xFF);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(float));
  if (!values.empty())  // memcpy from an empty vector's null data() is undefined
    std::memcpy(out.data() + at, values.data(), values.size() * sizeof(float));
  return out;
}

}  // namespace repro
