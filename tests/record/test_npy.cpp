// The .npy reader and writer against files numpy.save wrote (fuzz/corpus/npy/, numpy 1.24): the
// writer's bytes equal numpy's, the reader takes uint8, float32 and float64, and a damaged file
// is one line naming it.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "record/npy.h"

namespace {

std::string corpus(const std::string& name) {
  return repro::read_file(std::string(REPRO_SOURCE_DIR) + "/fuzz/corpus/npy/" + name);
}

std::string error_of(const std::string& bytes) {
  try {
    repro::parse_npy(bytes, "x.npy");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("npy: float32 arrays are written byte for byte as numpy.save writes them") {
  for (const char* name : {"float32_matrix.npy", "float32_vector.npy"}) {
    const std::string numpy = corpus(name);
    const repro::NpyArray a = repro::parse_npy(numpy, name);
    std::vector<float> values(a.data.size() / 4);
    std::memcpy(values.data(), a.data.data(), a.data.size());
    INFO(name);
    CHECK(repro::npy_float32(a.shape, values) == numpy);
  }
  const repro::NpyArray m = repro::parse_npy(corpus("float32_matrix.npy"), "m");
  CHECK(m.shape == std::vector<int64_t>{2, 3});
  CHECK(m.descr == "<f4");
}

TEST_CASE("npy: uint8 images, float64 and empty arrays read with their shapes") {
  const repro::NpyArray images = repro::parse_npy(corpus("uint8_images.npy"), "i");
  CHECK(images.descr == "|u1");
  CHECK(images.shape == std::vector<int64_t>{2, 4, 4});
  CHECK(static_cast<unsigned char>(images.data[31]) == 31);
  CHECK(repro::parse_npy(corpus("uint8_nhwc.npy"), "n").shape == std::vector<int64_t>{1, 3, 3, 1});
  CHECK(repro::parse_npy(corpus("float64_vector.npy"), "f").descr == "<f8");
  CHECK(repro::parse_npy(corpus("empty.npy"), "e").data.empty());
}

TEST_CASE("npy: a damaged or foreign file is one line naming it and what is wrong") {
  const std::string good = corpus("uint8_images.npy");
  CHECK_THAT(error_of("hello"), Catch::Contains("x.npy: no .npy magic"));
  CHECK_THAT(error_of(good.substr(0, good.size() - 1)),
             Catch::Contains("the shape promises 32 data bytes but the file holds 31"));
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  CHECK_THAT(error_of(fortran), Catch::Contains("fortran_order is True"));
  std::string dtype = good;
  dtype.replace(dtype.find("|u1"), 3, ">f4");  // big-endian
  CHECK_THAT(error_of(dtype), Catch::Contains("dtype >f4 is not uint8"));
  std::string huge = good;
  huge.replace(huge.find("(2, 4, 4)"), 9, "(9999999999999, 99999999999)");
  CHECK_THAT(error_of(huge), Catch::Contains("overflows 64 bits"));
  std::string version = good;
  version[6] = 9;
  CHECK_THAT(error_of(version), Catch::Contains("format version 9"));
  for (const std::string& e : {error_of("hello"), error_of(fortran), error_of(huge)})
    CHECK(e.find('\n') == std::string::npos);
}
