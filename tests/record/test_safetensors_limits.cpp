// Hostile safetensors files: every size in the header is checked against the bytes present,
// overflow-safe, before anything is allocated or copied; truncation names the file and the cut.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "record/safetensors.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string with_header(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t size = header.size();
  std::memcpy(out.data(), &size, 8);
  return out + header + std::string(data_bytes, '\0');
}

std::string parse_error(const std::string& content) {
  try {
    repro::parse_safetensors(content, "m.safetensors");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

// "{" + entries + "}" (appended: g++ 12 warns falsely on "literal" + std::string temporaries).
std::string object_of(const std::string& entries) {
  return std::string("{").append(entries).append("}");
}

std::string f32_entry(const std::string& name, const std::string& shape, uint64_t begin,
                      uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace

TEST_CASE("a safetensors shape whose size overflows 64 bits is refused") {
  // 2^62 * 4 elements * 4 bytes wraps to 0 bytes in 64 bits: offsets [0, 0] must not pass.
  CHECK(parse_error(with_header(object_of(f32_entry("w", "[4611686018427387904,4]", 0, 0)), 0)) ==
        "m.safetensors: not a valid safetensors file: tensor \"w\" has a shape of more than 2^64 "
        "bytes");
  CHECK(parse_error(with_header(object_of(f32_entry("w", "[4611686018427387904]", 0, 0)), 0)) ==
        "m.safetensors: not a valid safetensors file: tensor \"w\" has a shape of more than 2^64 "
        "bytes");
  CHECK_THAT(parse_error(with_header(object_of(f32_entry("w", "[9223372036854775808]", 0, 0)), 0)),
             Contains("tensor \"w\" has dimension 9223372036854775808, over 2^63 - 1"));
}

TEST_CASE("a safetensors shape with a zero dimension is empty whatever the other dimensions") {
  const auto tensors = repro::parse_safetensors(
      with_header(object_of(f32_entry("e", "[0,4611686018427387904,4]", 0, 0)), 0), "m");
  REQUIRE(tensors.size() == 1);
  CHECK(tensors[0].data.empty());
}

TEST_CASE("a safetensors header length past the file or over 100 MB is refused") {
  std::string huge(8, '\0');
  const uint64_t length = uint64_t{1} << 62;
  std::memcpy(huge.data(), &length, 8);
  CHECK(parse_error(huge + "{}") ==
        "m.safetensors: not a valid safetensors file: header length 4611686018427387904 is over "
        "the format's limit of 100000000 bytes");
  std::string past(8, '\0');
  past[0] = 100;
  CHECK(parse_error(past + "{}") ==
        "m.safetensors: not a valid safetensors file: header length 100 is past the end of the "
        "file (10 bytes); is the file cut short?");
}

TEST_CASE("ten thousand safetensors entries over the same megabyte are refused without copying") {
  // Copied before the overlap check, they would cost 10000 x 1 MB.
  std::string entries;
  for (int i = 0; i < 10000; ++i) {
    if (i > 0) entries += ",";
    entries += f32_entry("t" + std::to_string(i), "[262144]", 0, 1 << 20);
  }
  CHECK_THAT(parse_error(with_header(object_of(entries), 1 << 20)),
             Contains("gap or an overlap at byte 0"));
}

TEST_CASE("a truncated safetensors file names the file and says it is cut short") {
  std::vector<repro::NamedTensor> tensors = {{"a", {2, 3}, {1, 2, 3, 4, 5, 6}},
                                             {"b", {4}, {7, 8, 9, 10}}};
  const fs::path path =
      fs::temp_directory_path() / ("repro_test_cut_" + std::to_string(::getpid()) + ".safetensors");
  repro::write_safetensors(path.string(), tensors);
  const std::string whole = repro::read_file(path);
  fs::remove(path);
  const auto back = repro::parse_safetensors(whole, "m.safetensors");
  REQUIRE(back.size() == 2);
  CHECK(back[1].data == std::vector<float>{7, 8, 9, 10});

  CHECK(parse_error(whole.substr(0, whole.size() - 3)) ==
        "m.safetensors: not a valid safetensors file: tensor \"b\" data_offsets [24, 40] end past "
        "the 37 data bytes in the file; is the file cut short?");
  CHECK_THAT(parse_error(whole.substr(0, 20)),
             StartsWith("m.safetensors: not a valid safetensors file: header length"));
  CHECK_THAT(parse_error(whole.substr(0, 5)), Contains("shorter than the 8-byte header length (5 "
                                                       "bytes); is the file cut short?"));
}

TEST_CASE("safetensors tensor names from the file are quoted on one line") {
  CHECK(parse_error(with_header(
            "{\"a\\nb\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8)) ==
        "m.safetensors: not a valid safetensors file: tensor \"a\\nb\" has dtype \"F64\"; repro "
        "reads F32 only");
}
