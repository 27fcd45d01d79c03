// HDF5 files in Keras's H5IOStore layout, written and read in memory: values and shapes survive
// the trip, the reader refuses a dataset of another shape or type and a missing one, and a
// .keras-style zip of stored members reads back through ZipReader.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "record/h5_vars.h"
#include "record/zip_reader.h"
#include "record/zip_writer.h"

using repro::H5Var;
using repro::H5VarsGroup;

namespace {

std::vector<H5VarsGroup> sample() {
  return {H5VarsGroup{"", "sequential", {}},
          H5VarsGroup{"layers/conv2d",
                      "conv2d",
                      {H5Var{{2, 3}, {1, 2, 3, 4, 5, -6.5f}, false, 0}, H5Var{{3}, {0, 1, 2}}}},
          H5VarsGroup{"layers/flatten", "flatten", {}},
          H5VarsGroup{"optimizer", "adam", {H5Var{{}, {}, true, 41}, H5Var{{}, {0.25f}}}}};
}

}  // namespace

TEST_CASE("h5_vars: written groups read back value for value") {
  const std::string bytes = repro::write_h5_vars(sample());
  CHECK(bytes.substr(0, 8) == std::string("\x89HDF\r\n\x1a\n", 8));
  CHECK(repro::write_h5_vars(sample()) == bytes);
  const repro::H5VarsReader reader(bytes, "w.h5");
  CHECK(reader.count("layers/conv2d") == 2);
  CHECK(reader.count("layers/flatten") == 0);
  CHECK(reader.count("") == 0);
  CHECK(reader.count("layers/dense") == -1);
  CHECK(reader.read("layers/conv2d", 0, {2, 3}) == std::vector<float>{1, 2, 3, 4, 5, -6.5f});
  CHECK(reader.read("layers/conv2d", 1, {3}) == std::vector<float>{0, 1, 2});
  CHECK(reader.read("optimizer", 1, {}) == std::vector<float>{0.25f});
}

TEST_CASE("h5_vars: a dataset of another shape, type or name is one line naming it") {
  const std::string bytes = repro::write_h5_vars(sample());
  const repro::H5VarsReader reader(bytes, "w.h5");
  CHECK_THROWS_WITH(reader.read("layers/conv2d", 0, {3, 2}),
                    "w.h5: 'layers/conv2d/vars/0' has shape (2, 3), the model's weight there has "
                    "(3, 2)");
  CHECK_THROWS_WITH(reader.read("layers/conv2d", 1, {}),
                    Catch::Contains("has shape (3,), the model's weight there has ()"));
  CHECK_THROWS_WITH(reader.read("optimizer", 0, {}), Catch::Contains("is not a float dataset"));
  CHECK_THROWS_WITH(reader.read("layers/conv2d", 2, {3}), Catch::Contains("no such dataset"));
  CHECK_THROWS_AS(repro::H5VarsReader("PK\x03\x04", "w.h5"), repro::InputError);
  // Cut short: refused when opened or when read, never read past the end.
  for (const size_t size : {size_t{100}, bytes.size() / 2, bytes.size() - 8}) {
    INFO(size);
    CHECK_THROWS_AS(
        repro::H5VarsReader(bytes.substr(0, size), "w.h5").read("layers/conv2d", 0, {2, 3}),
        repro::InputError);
  }
}

TEST_CASE("zip_writer: stored members, fixed dates, read back by ZipReader") {
  const std::string zip = repro::write_zip({{"a.json", "{}"}, {"b.bin", std::string(1000, 'x')}});
  CHECK(repro::write_zip({{"a.json", "{}"}, {"b.bin", std::string(1000, 'x')}}) == zip);
  const repro::ZipReader reader(zip, "x.keras", ".keras archive");
  CHECK(reader.names() == std::vector<std::string>{"a.json", "b.bin"});
  CHECK(reader.read("b.bin", 1000) == std::string(1000, 'x'));
  CHECK(zip.find(std::string(1000, 'x')) != std::string::npos);  // stored, not deflated
}
