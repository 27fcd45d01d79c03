// The .npz reader: each wanted member "<key>.npy" read through record/zip_reader (which bounds it
// before inflating), parsed by record/npy and checked as images or labels.
#include "data/npz.h"

#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "record/npy.h"
#include "record/run_record.h"
#include "record/zip_reader.h"

namespace repro {

namespace {

constexpr int64_t kMaxNpzBytes = int64_t{4} << 30;
constexpr uint64_t kMaxMemberBytes = uint64_t{4} << 30;

// Member `key`.npy of the archive, parsed.
NpyArray member(const ZipReader& zip, const std::string& key, const std::string& file) {
  const std::string name = key + ".npy";
  if (!zip.has(name)) {
    std::string there;
    for (const std::string& n : zip.names()) there += (there.empty() ? "" : ", ") + n;
    throw InputError(file + ": no array " + clipped(key) + " (member " + clipped(name) +
                     "); it holds " + (there.empty() ? std::string("nothing") : there) +
                     "; name the arrays with data.keys");
  }
  return parse_npy(zip.read(name, kMaxMemberBytes), file + " (" + name + ")");
}

// uint8 images (N, H, W) or (N, H, W, C) into `d`.
void take_images(const NpyArray& a, const std::string& where, Dataset& d) {
  const bool channel = a.shape.size() == 4 && a.shape[3] >= 1 && a.shape[3] <= limits::channels;
  if (a.descr != "|u1" && a.descr != "<u1")
    throw InputError(where + ": dtype " + a.descr +
                     "; images must be uint8 (0-255), as "
                     "x.astype(np.uint8) gives");
  if (!(a.shape.size() == 3 || channel) || a.shape[1] < 1 || a.shape[2] < 1 || a.shape[1] > 65536 ||
      a.shape[2] > 65536)
    throw InputError(where + ": images must be (N, H, W) or (N, H, W, C) with C at most " +
                     std::to_string(limits::channels));
  d.count = a.shape[0];
  d.rows = static_cast<int>(a.shape[1]);
  d.cols = static_cast<int>(a.shape[2]);
  d.channels = channel ? static_cast<int>(a.shape[3]) : 1;
  d.images.assign(a.data.begin(), a.data.end());
}

// Integer labels (N) in 0..255 into `d`.
void take_labels(const NpyArray& a, const std::string& where, Dataset& d) {
  if (a.shape.size() != 1 && !(a.shape.size() == 2 && a.shape[1] == 1))
    throw InputError(where + ": labels must be a vector (N) of class indices");
  const size_t item = a.descr == "<i8" ? 8 : a.descr == "<i4" ? 4 : 1;
  if (a.descr != "|u1" && a.descr != "<u1" && a.descr != "|i1" && a.descr != "<i4" &&
      a.descr != "<i8")
    throw InputError(where + ": dtype " + a.descr + "; labels must be integers");
  const size_t n = static_cast<size_t>(a.shape[0]);
  d.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t v = 0;
    if (item == 8) {
      std::memcpy(&v, a.data.data() + 8 * i, 8);
    } else if (item == 4) {
      int32_t w = 0;
      std::memcpy(&w, a.data.data() + 4 * i, 4);
      v = w;
    } else {
      v = a.descr == "|i1" ? static_cast<int8_t>(a.data[i]) : static_cast<uint8_t>(a.data[i]);
    }
    if (v < 0 || v > 255)
      throw InputError(where + ": label " + std::to_string(v) + " at index " + std::to_string(i) +
                       " is outside 0..255");
    d.labels[i] = static_cast<uint8_t>(v);
  }
}

}  // namespace

Splits parse_npz_splits(std::string_view bytes, const std::string& file,
                        const std::array<std::string, 4>& keys) {
  const ZipReader zip(bytes, file, ".npz file");
  Splits s;
  Dataset* parts[] = {&s.train, &s.train, &s.test, &s.test};
  // The test arrays are optional, both or neither (a dataset without a test split).
  const bool test = zip.has(keys[2] + ".npy") || zip.has(keys[3] + ".npy");
  for (int k = 0; k < (test ? 4 : 2); ++k) {
    const std::string where = file + " (" + keys[k] + ")";
    const NpyArray a = member(zip, keys[k], file);
    if (k % 2 == 0)
      take_images(a, where, *parts[k]);
    else
      take_labels(a, where, *parts[k]);
  }
  for (const Dataset* d : {&s.train, &s.test}) {
    const bool train = d == &s.train;
    if (!train && !test) break;
    if (static_cast<int64_t>(d->labels.size()) != d->count)
      throw InputError(file + ": " + keys[train ? 0 : 2] + " holds " + std::to_string(d->count) +
                       " images but " + keys[train ? 1 : 3] + " " +
                       std::to_string(d->labels.size()) + " labels");
    if (d->count == 0) throw InputError(file + ": " + keys[train ? 0 : 2] + " holds no images");
  }
  if (test && (s.train.rows != s.test.rows || s.train.cols != s.test.cols ||
               s.train.channels != s.test.channels))
    throw InputError(file + ": test images are " + image_shape_text(s.test) +
                     " but training images are " + image_shape_text(s.train));
  return s;
}

std::array<int, 3> npz_image_shape(const std::string& path, const std::string& x_train) {
  const std::string bytes = read_file(path, kMaxNpzBytes);
  const ZipReader zip(bytes, path, ".npz file");
  Dataset d;
  take_images(member(zip, x_train, path), path + " (" + x_train + ")", d);
  return {d.rows, d.cols, d.channels};
}

Splits read_npz_splits(const std::string& path, const std::array<std::string, 4>& keys) {
  const std::string bytes = read_file(path, kMaxNpzBytes);
  Splits s = parse_npz_splits(bytes, path, keys);
  // run.json names the file and its SHA-256, so compare can name changed data.
  s.files.push_back(std::filesystem::absolute(path).string() + " (sha256 " +
                    sha256_hex(bytes.data(), bytes.size()) + ")");
  return s;
}

}  // namespace repro
