// Tolerant JSON reading shared by the record readers: Python's NaN, Infinity and -Infinity tokens
// (what json.dump writes for non-finite floats) are read as numbers, and every value keeps its
// place in the text so errors read "file:line:col: message". It does not write JSON.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace repro {

struct JsonPlace {
  int line = 0;  // 1-based; 0 means unknown
  int col = 0;   // 1-based byte column
};

struct ParsedJson {
  std::string file;                         // the label used in error messages
  nlohmann::ordered_json value;             // objects keep the file's key order
  std::map<std::string, JsonPlace> places;  // JSON pointer ("/loss/2") -> where the value starts
};

// Parses `text`; throws InputError "file:line:col: message" for malformed JSON or a duplicate key.
// `first_line` shifts reported lines, for one line of a JSON-lines file.
ParsedJson parse_json_text(std::string_view text, const std::string& file, int first_line = 1);

// InputError "file:line:col: message" placed at the value `pointer` names (file only if unknown).
std::string json_error_at(const ParsedJson& json, const std::string& pointer,
                          const std::string& message);

// "/a~1b" for key "a/b": the JSON pointer of `key` below `parent`.
std::string json_pointer_child(const std::string& parent, const std::string& key);

}  // namespace repro
