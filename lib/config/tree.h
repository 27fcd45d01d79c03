// Internal to lib/config: the YAML document as a plain tree that remembers where every node came
// from (file:line:col or a `--set` flag). Only config.cpp builds it from yaml-cpp; decode.cpp
// reads it into RunConfig. Not part of the public interface.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "config/config.h"

namespace repro::config_detail {

struct MapEntry;

struct ConfigNode {
  enum class Type { null, scalar, list, map };
  Type type = Type::null;
  std::string scalar;             // the text of a scalar
  bool quoted = false;            // a quoted scalar is always a string, never a number or bool
  std::vector<MapEntry> entries;  // map, in file order
  std::vector<ConfigNode> items;  // list
  SourcePlace place;              // where the node starts (for a --set value: the flag itself)
};

struct MapEntry {
  std::string key;
  SourcePlace key_place;
  ConfigNode value;
};

// Throws InputError "place: message".
[[noreturn]] void fail_at(const SourcePlace& place, const std::string& message);

// The Keras arguments (besides `name`) that an initializer or optimizer takes, in Keras order.
const std::vector<std::string>& initializer_arguments(const std::string& name);
const std::vector<std::string>& optimizer_arguments(const std::string& name);
// The arguments of a learning-rate schedule (besides `name`); empty for an unknown schedule.
const std::vector<std::string>& schedule_arguments(const std::string& name);

// The shortest text that reads back as the same double ("0.001", "1e-07"), and "[h, w]".
std::string number_text(double value);
std::string pair_text(const std::array<int, 2>& pair);

// Reads the tree into a RunConfig (types, vocabulary, unknown keys) and records every key's place.
// Ranges and cross-key rules are left to validate().
RunConfig decode_config(const ConfigNode& root);

}  // namespace repro::config_detail
