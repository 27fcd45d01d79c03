// safetensors: round trip, the exact header bytes, and rejection of malformed files.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "record/safetensors.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (std::to_string(::getpid()) + "_" + name);
}

std::string read_error(const std::string& content) {
  fs::path path = temp_file("repro_test_bad.safetensors");
  repro::write_file_atomic(path, content);
  try {
    repro::read_safetensors(path.string());
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string with_header(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t size = header.size();
  std::memcpy(out.data(), &size, 8);
  return out + header + std::string(data_bytes, '\0');
}

}  // namespace

TEST_CASE("safetensors round trip keeps names, shapes, values, order and metadata") {
  std::vector<repro::NamedTensor> tensors = {
      {"conv2d/kernel", {2, 1, 3, 3}, {}},
      {"conv2d/bias", {2}, {-1.5f, 3.25f}},
      {"scalar", {}, {42.0f}},
      {"empty", {0, 4}, {}},
  };
  for (int i = 0; i < 18; ++i) tensors[0].data.push_back(0.1f * static_cast<float>(i) - 0.7f);
  fs::path path = temp_file("repro_test.safetensors");
  repro::write_safetensors(path.string(), tensors, {{"format", "pt"}, {"step", "938"}});
  std::map<std::string, std::string> metadata;
  auto back = repro::read_safetensors(path.string(), &metadata);
  REQUIRE(back.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    CHECK(back[i].name == tensors[i].name);
    CHECK(back[i].shape == tensors[i].shape);
    REQUIRE(back[i].data.size() == tensors[i].data.size());
    // memcmp of an empty tensor's null pointer is undefined, so compare only what is there.
    CHECK((tensors[i].data.empty() || std::memcmp(back[i].data.data(), tensors[i].data.data(),
                                                  tensors[i].data.size() * 4) == 0));
  }
  CHECK(metadata == std::map<std::string, std::string>{{"format", "pt"}, {"step", "938"}});
  fs::remove(path);
}

TEST_CASE("safetensors header bytes follow the format exactly") {
  fs::path path = temp_file("repro_test_header.safetensors");
  repro::write_safetensors(path.string(), {{"b", {2}, {1.0f, 2.0f}}, {"a", {1, 1}, {-2.0f}}},
                           {{"k", "v"}});
  std::string bytes = repro::read_file(path);
  std::string header =
      "{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
      "8]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  REQUIRE(header.size() % 8 == 0);
  uint64_t size = 0;
  std::memcpy(&size, bytes.data(), 8);
  REQUIRE(size == header.size());
  REQUIRE(bytes.substr(8, header.size()) == header);
  // Little-endian float32 data right after the header: 1.0f = 00 00 80 3f.
  REQUIRE(bytes.size() == 8 + header.size() + 12);
  REQUIRE(bytes.substr(8 + header.size(), 4) == std::string("\x00\x00\x80\x3f", 4));
  fs::remove(path);
}

TEST_CASE("malformed safetensors files are input errors naming the problem") {
  CHECK_THAT(read_error("abc"), Contains("shorter than the 8-byte header length"));
  CHECK_THAT(read_error(with_header("{\"a\" 1}", 0)),
             Contains("(header):1:6: invalid JSON at '1}'"));
  std::string too_long(8, '\0');
  too_long[0] = 100;
  CHECK_THAT(read_error(too_long + "{}"), Contains("past the end of the file"));
  CHECK_THAT(read_error(with_header(
                 "{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2)),
             Contains("has dtype \"F16\"; repro reads F32 only"));
  CHECK_THAT(read_error(with_header(
                 "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)),
             Contains("do not match its shape"));
  CHECK_THAT(read_error(with_header(
                 "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)),
             Contains("4 unused bytes"));
  CHECK_THAT(
      read_error(with_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                             "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                             8)),
      Contains("gap or an overlap"));
}
