// Hostile JSON in every file the tool reads back (history.json, run.json, trace.jsonl, the
// safetensors header, checkpoint JSON): refused with a one-line place and reason, never a crash.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"
#include "record/history.h"
#include "record/json_text.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "record/trace.h"

namespace {

// `depth` nested arrays: "[[[...]]]".
std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

template <typename Read>
std::string error_of(Read&& read) {
  try {
    read();
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

const char* const kTooDeep =
    "arrays and objects nested 65 levels deep; repro reads at most 64 levels (its own files use "
    "4): is this the right file?";

}  // namespace

TEST_CASE("a history nested 100000 levels deep is refused with its depth") {
  // `{"loss": ` is 9 bytes: the object is level 1, the bracket at column 73 is level 65.
  const std::string text = "{\"loss\": " + nested(100000) + "}";
  CHECK(error_of([&] { repro::parse_history(text, "h.json"); }) ==
        std::string("h.json:1:73: ") + kTooDeep);
}

TEST_CASE("a run.json nested 100000 levels deep is refused with its depth") {
  const std::string text = "{\"environment\":\n" + nested(100000) + "}";
  CHECK(error_of([&] { repro::parse_run_record(text, "run.json"); }) ==
        std::string("run.json:2:64: ") + kTooDeep);
}

TEST_CASE("a trace line nested 100000 levels deep is refused with its line and depth") {
  const std::string good = repro::trace_to_jsonl({{1, 1, 0, "dense/kernel", "ab"}});
  const std::string text = good + "{\"step\": " + std::string(100000, '[') + "\n";
  CHECK(error_of([&] { repro::parse_trace(text, "t.jsonl"); }) ==
        std::string("t.jsonl:2:73: ") + kTooDeep);
}

TEST_CASE("a safetensors header nested 100000 levels deep is refused naming the file") {
  const std::string header = "{\"w\": " + nested(100000) + "}";
  std::string file(8, '\0');
  const uint64_t size = header.size();
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  file += header;
  CHECK(error_of([&] { repro::parse_safetensors(file, "m.safetensors"); }) ==
        std::string("m.safetensors (header):1:70: ") + kTooDeep);
}

TEST_CASE("JSON nested exactly 64 levels deep is read") {
  const repro::ParsedJson json = repro::parse_json_text(nested(64), "deep.json");
  const nlohmann::ordered_json* value = &json.value;
  size_t depth = 0;
  while (value->is_array()) {
    ++depth;
    if (value->empty()) break;
    value = &(*value)[0];
  }
  CHECK(depth == 64);
  CHECK(error_of([] { repro::parse_json_text(nested(65), "deep.json"); }) ==
        std::string("deep.json:1:65: ") + kTooDeep);
}

TEST_CASE("parse_json_bounded gives plain JSON and refuses deep nesting with its place") {
  const nlohmann::json j = repro::parse_json_bounded(
      "{\"format\": \"repro-checkpoint-1\", \"global_step\": 938, \"loss_sum\": 0.25,\n"
      " \"history\": {\"loss\": [0.5, 0.25]}, \"ok\": true, \"none\": null, \"neg\": -3}",
      "step.json");
  CHECK(j.at("format") == "repro-checkpoint-1");
  CHECK(j.at("global_step").get<int64_t>() == 938);
  CHECK(j.at("loss_sum").get<double>() == 0.25);
  CHECK(j.at("history").at("loss") == nlohmann::json::array({0.5, 0.25}));
  CHECK(j.at("ok") == true);
  CHECK(j.at("none").is_null());
  CHECK(j.at("neg").get<int64_t>() == -3);
  CHECK(error_of([] { repro::parse_json_bounded("{\"a\": " + nested(100000) + "}", "s.json"); }) ==
        std::string("s.json:1:70: ") + kTooDeep);
  CHECK(error_of([] { repro::parse_json_bounded("{\"a\": 1,\n \"a\": 2}", "s.json"); }) ==
        "s.json:2:2: duplicate key \"a\"; keep only one");
  CHECK(error_of([] {
          repro::parse_json_bounded("{\"a\": ", "s.json");
        }).rfind("s.json:1:7: invalid JSON", 0) == 0);
}

TEST_CASE("a history with 200000 keys is read in linear time") {
  // An ordered object looks keys up linearly: checking each new key that way was quadratic.
  std::string text = "{";
  for (int i = 0; i < 200000; ++i) text += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": [1]";
  text += "}";
  CHECK(repro::parse_history(text, "h.json").size() == 200000);
  CHECK(error_of([&] {
          repro::parse_history(text.substr(0, text.size() - 1) + ", \"k7\": []}", "h.json");
        }).find("duplicate key \"k7\"") != std::string::npos);
}

TEST_CASE("keys from the file are quoted on one line in error messages") {
  CHECK(error_of([] { repro::parse_history("{\"a\\nb\\u0001\": 5}", "h.json"); }) ==
        "h.json:1:16: \"a\\nb\\x01\" must be a list of numbers (one per epoch), not number");
  const std::string long_key(1000, 'x');
  const std::string message =
      error_of([&] { repro::parse_history("{\"" + long_key + "\": 5}", "h.json"); });
  CHECK(message == "h.json:1:1006: \"" + std::string(60, 'x') +
                       "... (1000 bytes)\" must be a list of numbers (one per epoch), not number");
  CHECK(error_of([] { repro::parse_history("{\"a\":\t\x01}", "h.json"); }).find('\x01') ==
        std::string::npos);
}

TEST_CASE("error places survive keys with slashes and tildes") {
  CHECK(error_of([] { repro::parse_history("{\"a/b~c\": [1,\n \"x\"]}", "h.json"); }) ==
        "h.json:2:2: \"a/b~c\"[1] must be a number, not string");
}

TEST_CASE("an endless history file such as /dev/zero is refused at its size limit") {
  CHECK(error_of([] { repro::read_history("/dev/zero"); }) ==
        "/dev/zero: larger than 16777216 bytes, more than this kind of file may be; is it the "
        "right file?");
  CHECK(error_of([] { repro::read_run_record("/dev/zero"); }).rfind("/dev/zero: larger than", 0) ==
        0);
}

TEST_CASE("json_place finds a value past large siblings and names no place for a missing one") {
  const repro::ParsedJson json = repro::parse_json_text(
      "{\"a\": [[1, 2], [3, [4, {\"x\": 5}]]],\n \"b~/\": {\"c\": [1, \"x\"]}, \"\": 7}", "p.json");
  auto place = [&](const std::string& pointer) {
    const repro::JsonPlace p = repro::json_place(json, pointer);
    return std::to_string(p.line) + ":" + std::to_string(p.col);
  };
  CHECK(place("") == "1:1");
  CHECK(place("/a") == "1:7");
  CHECK(place("/a/1/1/1/x") == "1:30");
  CHECK(place("/b~0~1") == "2:9");
  CHECK(place("/b~0~1/c/1") == "2:19");
  CHECK(place("/") == "2:30");
  CHECK(place("/a/2") == "0:0");
  CHECK(place("/a/x") == "0:0");
  CHECK(place("/nope") == "0:0");
  CHECK(place("/a/0/1/2") == "0:0");
}
