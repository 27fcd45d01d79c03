// CIFAR-10 binary batches out of their tar.gz (zlib through data/gunzip.h, tar headers read
// here: the fields CIFAR's archive uses, name, size and type, as POSIX ustar defines them).
#include "data/cifar.h"

#include <array>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/fs.h"
#include "data/gunzip.h"
#include "record/run_record.h"

namespace repro {

namespace {

constexpr int kSide = 32, kPixels = kSide * kSide;
constexpr size_t kRecord = 1 + 3 * kPixels;             // label, R, G, B planes
constexpr size_t kMaxRecords = 10000;                   // per batch, as published
constexpr uint64_t kMaxMember = kMaxRecords * kRecord;  // 30,730,000 bytes
constexpr uint64_t kMaxArchive = uint64_t{512} << 20;   // the tar, inflated
const std::array<std::string, 6> kBatches = {"data_batch_1.bin", "data_batch_2.bin",
                                             "data_batch_3.bin", "data_batch_4.bin",
                                             "data_batch_5.bin", "test_batch.bin"};

// The archive as a stream of bytes, inflated on demand when it is gzip.
class Stream {
 public:
  Stream(std::string_view bytes, const std::string& file) : bytes_(bytes) {
    if (is_gzip(bytes)) gunzip_.emplace(file, bytes);
  }
  // Up to `n` next bytes (fewer at the end).
  std::string take(uint64_t n) {
    std::string out;
    if (gunzip_) {
      gunzip_->read(out, n);
    } else {
      const uint64_t size = std::min<uint64_t>(n, bytes_.size() - offset_);
      out.assign(bytes_.substr(offset_, size));
      offset_ += size;
    }
    consumed_ += out.size();
    return out;
  }
  uint64_t consumed() const { return consumed_; }

 private:
  std::string_view bytes_;
  size_t offset_ = 0;
  uint64_t consumed_ = 0;
  std::optional<Gunzip> gunzip_;
};

// A tar header's octal number field; nullopt when it is not one.
std::optional<uint64_t> octal(const std::string& header, size_t at, size_t width) {
  uint64_t value = 0;
  bool digits = false;
  for (size_t i = at; i < at + width; ++i) {
    const char c = header[i];
    if (c == ' ' && !digits) continue;
    if (c == '\0' || c == ' ') break;
    if (c < '0' || c > '7' || value > (uint64_t{1} << 60)) return std::nullopt;
    value = value * 8 + static_cast<uint64_t>(c - '0');
    digits = true;
  }
  return digits ? std::optional<uint64_t>(value) : std::nullopt;
}

std::string field(const std::string& header, size_t at, size_t width) {
  const std::string text = header.substr(at, width);
  return text.substr(0, text.find('\0'));
}

// One batch's records appended to `d` (HWC); labels checked.
void take_batch(const std::string& bytes, const std::string& where, Dataset& d) {
  if (bytes.empty() || bytes.size() % kRecord != 0)
    throw InputError(where + ": " + std::to_string(bytes.size()) +
                     " bytes, not a whole number of 3073-byte CIFAR-10 records");
  const size_t n = bytes.size() / kRecord;
  const size_t first = d.images.size();
  d.images.resize(first + n * 3 * kPixels);
  for (size_t r = 0; r < n; ++r) {
    const auto* record = reinterpret_cast<const uint8_t*>(bytes.data()) + r * kRecord;
    if (record[0] > 9)
      throw InputError(where + ": record " + std::to_string(r) + " has label " +
                       std::to_string(record[0]) + ", outside 0..9");
    d.labels.push_back(record[0]);
    uint8_t* image = d.images.data() + first + r * 3 * kPixels;
    for (int p = 0; p < kPixels; ++p)
      for (int c = 0; c < 3; ++c) image[p * 3 + c] = record[1 + c * kPixels + p];
  }
  d.count += static_cast<int64_t>(n);
}

Splits assemble(const std::array<std::string, 6>& batches, const std::string& file) {
  Splits s;
  for (Dataset* d : {&s.train, &s.test}) d->rows = d->cols = kSide, d->channels = 3;
  for (size_t i = 0; i < kBatches.size(); ++i)
    take_batch(batches[i], file + " (" + kBatches[i] + ")", i < 5 ? s.train : s.test);
  return s;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Splits parse_cifar10_archive(std::string_view bytes, const std::string& file) {
  Stream tar(bytes, file);
  std::array<std::string, 6> batches;
  std::array<bool, 6> found{};
  while (true) {
    const std::string header = tar.take(512);
    if (header.size() < 512 || header.find_first_not_of('\0') == std::string::npos) break;
    const std::optional<uint64_t> size = octal(header, 124, 12);
    if (!size)
      throw InputError(file + ": damaged tar header at byte " +
                       std::to_string(tar.consumed() - 512) + " (its size is not a number)");
    std::string name = field(header, 0, 100);
    if (field(header, 257, 5) == "ustar" && !field(header, 345, 155).empty())
      name = field(header, 345, 155) + "/" + name;
    const char type = header[156];
    const uint64_t padded = (*size + 511) / 512 * 512;
    if (tar.consumed() + padded > kMaxArchive)
      throw InputError(file + ": member " + clipped(name) + " claims " + std::to_string(*size) +
                       " bytes, past the " + std::to_string(kMaxArchive >> 20) +
                       " MiB a CIFAR-10 archive holds");
    size_t k = kBatches.size();
    for (size_t i = 0; i < kBatches.size(); ++i)
      if ((type == '0' || type == '\0') && base_name(name) == kBatches[i]) k = i;
    if (k < kBatches.size()) {
      if (*size > kMaxMember)
        throw InputError(file + ": " + clipped(name) + " claims " + std::to_string(*size) +
                         " bytes; a CIFAR-10 batch holds at most " + std::to_string(kMaxMember));
      batches[k] = tar.take(*size);
      if (batches[k].size() != *size)
        throw InputError(file + ": " + clipped(name) + " is cut short (the archive ends early)");
      found[k] = true;
      tar.take(padded - *size);
    } else {
      for (uint64_t left = padded; left > 0;) {  // skipped in pieces, never held whole
        const std::string piece = tar.take(std::min<uint64_t>(left, uint64_t{1} << 20));
        if (piece.empty()) break;
        left -= piece.size();
      }
    }
  }
  std::string missing;
  for (size_t i = 0; i < kBatches.size(); ++i)
    if (!found[i]) missing += (missing.empty() ? "" : ", ") + kBatches[i];
  if (!missing.empty())
    throw InputError(file + ": not CIFAR-10's binary archive (no " + missing +
                     "); get cifar-10-binary.tar.gz with repro data fetch cifar10");
  return assemble(batches, file);
}

Splits read_cifar10(const std::string& path) {
  Splits s;
  if (std::filesystem::is_directory(path)) {
    std::array<std::string, 6> batches;
    for (size_t i = 0; i < kBatches.size(); ++i) {
      const std::string file = (std::filesystem::path(path) / kBatches[i]).string();
      batches[i] = read_file(file, static_cast<int64_t>(kMaxMember));
      s.files.push_back(std::filesystem::absolute(file).string() + " (sha256 " +
                        sha256_hex(batches[i].data(), batches[i].size()) + ")");
    }
    Splits out = assemble(batches, path);
    out.files = std::move(s.files);
    return out;
  }
  const std::string bytes = read_file(path, static_cast<int64_t>(kMaxArchive));
  Splits out = parse_cifar10_archive(bytes, path);
  out.files.push_back(std::filesystem::absolute(path).string() + " (sha256 " +
                      sha256_hex(bytes.data(), bytes.size()) + ")");
  return out;
}

}  // namespace repro
