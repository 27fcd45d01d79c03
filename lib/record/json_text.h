// Tolerant JSON reading shared by the record readers: Python's NaN, Infinity and -Infinity tokens
// (what json.dump writes for non-finite floats) are read as numbers, and every value keeps its
// place in the text so errors read "file:line:col: message". Nesting is bounded (kMaxJsonDepth)
// so hostile input is refused before it costs memory or stack. It does not write JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace repro {

struct JsonPlace {
  int line = 0;  // 1-based; 0 means unknown
  int col = 0;   // 1-based byte column
};

// Arrays and objects nest at most this deep; repro's own files nest 4 levels at most.
constexpr size_t kMaxJsonDepth = 64;
// The most bytes read from a history.json or run.json (a few KB when repro writes them), and from
// a trace.jsonl (tens of MB for a trace at every step): an endless or wrong file stops there.
constexpr int64_t kMaxRecordFileBytes = int64_t{16} << 20;
constexpr int64_t kMaxTraceFileBytes = int64_t{1} << 30;

// One value of the parsed text, in document order (node 0 is the root, a value's first child
// follows it): where it starts, and the node after its last descendant (to skip to a sibling).
struct JsonNode {
  JsonPlace place;
  uint32_t end = 0;
};

struct ParsedJson {
  std::string file;              // the label used in error messages
  nlohmann::ordered_json value;  // objects keep the file's key order
  // Every value's place, 12 bytes a value: error paths walk it together with `value` to find
  // the place of a JSON pointer, so memory stays linear in the values however deep or long
  // the keys (a map from whole pointers would not).
  std::vector<JsonNode> nodes;
};

// Parses `text`; throws InputError "file:line:col: message" for malformed JSON, a duplicate key,
// nesting deeper than kMaxJsonDepth or more than 2^24 values. `first_line` shifts reported lines,
// for one line of a JSON-lines file.
ParsedJson parse_json_text(std::string_view text, const std::string& file, int first_line = 1);

// Strict-enough JSON for files repro writes with nlohmann (checkpoint step-N.json): the same
// bounded, tolerant parser, returned as a plain nlohmann::json. InputError "file:line:col: ..."
// for malformed text, a duplicate key or nesting deeper than kMaxJsonDepth.
nlohmann::json parse_json_bounded(std::string_view text, const std::string& file);

// Where the value `pointer` names starts; {0, 0} when the pointer names no value.
JsonPlace json_place(const ParsedJson& json, const std::string& pointer);

// InputError "file:line:col: message" placed at the value `pointer` names (file only if unknown).
std::string json_error_at(const ParsedJson& json, const std::string& pointer,
                          const std::string& message);

// clipped() in double quotes: a key or a name from the file, quoted in an error message.
std::string quoted_name(std::string_view text);

// "/a~1b" for key "a/b": the JSON pointer of `key` below `parent`.
std::string json_pointer_child(const std::string& parent, const std::string& key);

}  // namespace repro
