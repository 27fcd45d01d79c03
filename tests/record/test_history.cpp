// history.json: Keras's exact bytes, bit-exact round trips, Python's float repr, and errors that
// name the file, line and column.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/fs.h"
#include "record/history.h"
#include "rng/threefry.h"

using repro::History;

namespace {

uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

float float_from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

std::string parse_error_message(const std::string& text) {
  try {
    repro::parse_history(text, "h.json");
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("python_float_repr matches Python's repr(float)") {
  // Expected strings printed by CPython 3.11 repr().
  CHECK(repro::python_float_repr(0.05609520897269249) == "0.05609520897269249");
  CHECK(repro::python_float_repr(1e-05) == "1e-05");
  CHECK(repro::python_float_repr(1e16) == "1e+16");
  CHECK(repro::python_float_repr(1e15) == "1000000000000000.0");
  CHECK(repro::python_float_repr(0.0001) == "0.0001");
  CHECK(repro::python_float_repr(0.001) == "0.001");
  CHECK(repro::python_float_repr(1.5e-7) == "1.5e-07");
  CHECK(repro::python_float_repr(static_cast<double>(0.1f)) == "0.10000000149011612");
  CHECK(repro::python_float_repr(static_cast<double>(1e-45f)) == "1.401298464324817e-45");
  CHECK(repro::python_float_repr(static_cast<double>(3.4e38f)) == "3.3999999521443642e+38");
  CHECK(repro::python_float_repr(2.5) == "2.5");
  CHECK(repro::python_float_repr(100.0) == "100.0");
  CHECK(repro::python_float_repr(123.456) == "123.456");
  CHECK(repro::python_float_repr(1.7976931348623157e308) == "1.7976931348623157e+308");
  CHECK(repro::python_float_repr(5e-324) == "5e-324");
  CHECK(repro::python_float_repr(-0.0) == "-0.0");
  CHECK(repro::python_float_repr(0.0) == "0.0");
  CHECK(repro::python_float_repr(std::numeric_limits<double>::quiet_NaN()) == "nan");
  CHECK(repro::python_float_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(repro::python_float_repr(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("history_to_json writes the bytes of Keras's json.dump(history.history)") {
  History history;
  history["accuracy"] = {0.9123f, 0.97f};
  history["loss"] = {0.2846f, 0.0912f};
  history["val_accuracy"] = {0.9655f, 1.0};
  history["val_loss"] = {std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity()};
  history["lr"] = {1e-05, 1e16, 0.0001, -0.0, 1e22, 123456789012345678.0, 5e-324};
  // Printed by Python: json.dumps(h, sort_keys=True) on the same float32-widened values.
  const char* expected =
      "{\"accuracy\": [0.9122999906539917, 0.9700000286102295], \"loss\": [0.28459998965263367, "
      "0.09120000153779984], \"lr\": [1e-05, 1e+16, 0.0001, -0.0, 1e+22, 1.2345678901234568e+17, "
      "5e-324], \"val_accuracy\": [0.965499997138977, 1.0], \"val_loss\": [NaN, Infinity]}";
  REQUIRE(repro::history_to_json(history) == expected);
  REQUIRE(repro::history_to_json({}) == "{}");
  // Key escapes as json.dumps writes them (ensure_ascii): printed by Python for the same key.
  REQUIRE(repro::history_to_json({{"q\"\\\n\x01 \xc3\xa9\xf0\x9f\x98\x80", {0.5}}}) ==
          "{\"q\\\"\\\\\\n\\u0001 \\u00e9\\ud83d\\ude00\": [0.5]}");
  REQUIRE(repro::history_to_json({{"loss", {}}}) == "{\"loss\": []}");
}

TEST_CASE("history round trip is bit-exact for float32 values and edge values") {
  History history;
  std::vector<double>& values = history["loss"];
  // Random-looking float32 bit patterns (finite ones), widened to double as the trainer does.
  for (uint32_t i = 0; values.size() < 2000; ++i) {
    float f = float_from_bits(repro::threefry2x32({812u, 0u}, {i, 0u})[0]);
    if (std::isfinite(f)) values.push_back(f);
  }
  history["edges"] = {1e-45f,
                      3.4e38f,
                      0.1f,
                      -0.0,
                      0.0,
                      1.0,
                      -1.0,
                      1e-45,
                      5e-324,
                      std::numeric_limits<double>::infinity(),
                      -std::numeric_limits<double>::infinity()};
  history["with \"quote\" and \xc3\xa9"] = {0.5};
  History back = repro::parse_history(repro::history_to_json(history), "h.json");
  REQUIRE(back.size() == history.size());
  for (const auto& [key, list] : history) {
    REQUIRE(back.count(key) == 1);
    REQUIRE(back[key].size() == list.size());
    for (size_t i = 0; i < list.size(); ++i) REQUIRE(bits(back[key][i]) == bits(list[i]));
  }
  History nan_history = repro::parse_history("{\"loss\": [NaN, -Infinity]}", "h.json");
  REQUIRE(std::isnan(nan_history["loss"][0]));
  REQUIRE(nan_history["loss"][1] == -std::numeric_limits<double>::infinity());
}

TEST_CASE("the history reader accepts any Keras history: any keys, integers, any spacing") {
  History h = repro::parse_history("{\n  \"val_mae\": [1, 2.5e-3],\n  \"lr\": []\n}\n", "h.json");
  REQUIRE(h.size() == 2);
  REQUIRE(h["val_mae"] == std::vector<double>{1.0, 0.0025});
  REQUIRE(h["lr"].empty());
}

TEST_CASE("malformed history JSON is an input error with file, line and column") {
  CHECK(parse_error_message("{\"loss\": [0.5,\n 0.4,]}") ==
        "h.json:2:6: invalid JSON at ']}': unexpected ']'; expected '[', '{', or a literal");
  CHECK(parse_error_message("{\"loss\": [0.5, NaN, x]}") ==
        "h.json:1:21: invalid JSON at 'x]}': invalid literal");
  CHECK(parse_error_message("{\"loss\": [0.5") ==
        "h.json:1:14: invalid JSON: unexpected end of input; expected ']'; is the file complete?");
  CHECK(parse_error_message("") ==
        "h.json:1:1: invalid JSON: unexpected end of input; expected '[', '{', or a literal; is "
        "the file complete?");
  CHECK(parse_error_message("{\"loss\": [1NaN]}").rfind("h.json:1:12: invalid JSON", 0) == 0);
}

TEST_CASE("a history that is not lists of numbers is an input error at the value") {
  CHECK(parse_error_message("[0.5]") ==
        "h.json:1:1: expected a Keras history: an object of lists, like {\"loss\": [0.5, 0.4]}");
  CHECK(parse_error_message("{\"acc\": [1],\n \"loss\": 0.5}") ==
        "h.json:2:10: \"loss\" must be a list of numbers (one per epoch), not number");
  CHECK(parse_error_message("{\"loss\": [0.5, \"0.4\"]}") ==
        "h.json:1:16: \"loss\"[1] must be a number, not string");
  CHECK(parse_error_message("{\"loss\": [true]}") ==
        "h.json:1:11: \"loss\"[0] must be a number, not boolean");
  CHECK(parse_error_message("{\"loss\": [1], \"loss\": [2]}") ==
        "h.json:1:15: duplicate key \"loss\"; keep only one");
}

TEST_CASE("write_history writes atomically and leaves nothing when the write fails") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("repro_test_history_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  History h{{"loss", {0.5, 0.25}}};
  repro::write_history((dir / "history.json").string(), h);
  REQUIRE(repro::read_history((dir / "history.json").string()) == h);
  // A folder where the file should go: the temp file is written, the rename fails.
  fs::create_directories(dir / "taken.json");
  REQUIRE_THROWS_AS(repro::write_history((dir / "taken.json").string(), h), repro::RuntimeError);
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  REQUIRE(entries == 2);  // history.json and the folder, no temp file left
  REQUIRE_THROWS_AS(repro::read_history((dir / "missing.json").string()), repro::InputError);
  fs::remove_all(dir);
}
