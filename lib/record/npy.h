// NumPy's .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a version, a little-endian
// header length, a Python dict literal {'descr': ..., 'fortran_order': False, 'shape': (...)},
// then the raw data in C order. The reader takes uint8, float32 and float64 arrays and parses the
// header strictly (uint8, int8, int32, int64, float32, float64, little-endian); the writer writes
// version 1.0 float32 arrays, as numpy.save does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

struct NpyArray {
  std::string descr;           // "|u1", "|i1", "<i4", "<i8", "<f4" or "<f8"
  std::vector<int64_t> shape;  // C order
  std::string data;            // the raw bytes, shape's product times the item size
};

// InputError naming `file_label` and what is wrong (magic, version, header, dtype, Fortran
// order, a shape whose size overflows or does not match the bytes present).
NpyArray parse_npy(std::string_view content, const std::string& file_label);
NpyArray read_npy(const std::string& path);

// The bytes numpy.save writes for a float32 array of `shape`.
std::string npy_float32(const std::vector<int64_t>& shape, const std::vector<float>& values);

}  // namespace repro
