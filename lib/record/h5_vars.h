// HDF5 files in the layout of Keras 3's H5IOStore (keras/src/saving/saving_lib.py): groups
// `<path>/vars` (or `vars` at the root) holding datasets "0", "1", ... and a string attribute
// `name`. Written and read in memory with Debian's HDF5 library (libhdf5-dev), core driver: the
// writer returns the file's bytes, the reader takes them. It knows nothing of models: the caller
// says which paths hold what.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

// One variable: a float32 array (shape {} is a scalar) or an int64 scalar.
struct H5Var {
  std::vector<int64_t> shape;
  std::vector<float> values;
  bool is_int64 = false;
  int64_t int64_value = 0;
};

struct H5VarsGroup {
  std::string path;  // "layers/conv2d"; "" for the root's `vars`
  std::string name;  // its `name` attribute
  std::vector<H5Var> vars;
};

// The file's bytes, the same for the same groups: object times are not recorded (as h5py does
// by default), groups in the order given.
std::string write_h5_vars(const std::vector<H5VarsGroup>& groups);

// Reads float32 variables out of a file image. Every read names `file_label` and the dataset in
// its InputError. Bounds: the image at most `max_bytes` (the caller reads it so), a `vars` group
// of at most 4096 members, a dataset's shape checked against the expected one before any value is
// read. The library's own error printing is off: its failures become one-line InputErrors.
class H5VarsReader {
 public:
  H5VarsReader(std::string_view bytes, const std::string& file_label);
  ~H5VarsReader();
  H5VarsReader(const H5VarsReader&) = delete;
  H5VarsReader& operator=(const H5VarsReader&) = delete;

  // The number of members of `<path>/vars`; -1 when there is no such group.
  int64_t count(const std::string& path) const;
  // Dataset `<path>/vars/<index>`, which must be a float dataset of exactly `shape`.
  std::vector<float> read(const std::string& path, int64_t index,
                          const std::vector<int64_t>& shape) const;

 private:
  struct File;
  std::unique_ptr<File> file_;
  std::string label_;
};

}  // namespace repro
