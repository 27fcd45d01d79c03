// Loads a config: YAML text -> a ConfigNode tree that remembers places -> `--set` overrides
// applied on the tree -> decode -> validate. The only file in repro that includes yaml-cpp;
// it interprets no key itself (decode.cpp and validate.cpp do).
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "config/tree.h"
#include "core/error.h"
#include "core/fs.h"

namespace repro {

const char* determinism_name(Determinism d) {
  return d == Determinism::portable ? "portable" : d == Determinism::on ? "on" : "off";
}

using config_detail::ConfigNode;
using config_detail::fail_at;
using config_detail::MapEntry;

namespace {

SourcePlace place_of(const YAML::Mark& mark, const std::string& file, const SourcePlace& fallback) {
  if (mark.is_null()) return fallback;
  return SourcePlace{file, mark.line + 1, mark.column + 1};
}

// Bounds the tree while it is built: yaml-cpp keeps an alias as a shared node, so a few lines
// of `&a [*b, *b, ...]` would expand into billions of nodes; counting stops that after
// limits::config_nodes, before the expansion is made.
struct TreeBudget {
  int64_t nodes = 0;
};

void fail_too_many_nodes(const SourcePlace& place) {
  fail_at(place, "the config holds more than " + std::to_string(limits::config_nodes) +
                     " values once its aliases (*name) are expanded; refusing to expand it, "
                     "write the values out or use fewer aliases");
}

// The first pass: counts the values `node` expands to, as to_tree would, without building
// anything, and fails at the value past limits::config_nodes. An alias bomb is refused after
// 100,000 cheap steps instead of 100,000 tree nodes built. Too deep a document is left to
// to_tree, which names the place.
void check_node_budget(const YAML::Node& node, const std::string& file, const SourcePlace& fallback,
                       int64_t& count, int depth = 0) {
  if (depth > limits::config_depth) return;
  if (++count > limits::config_nodes)
    fail_too_many_nodes(node.IsNull() ? fallback : place_of(node.Mark(), file, fallback));
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) check_node_budget(item, file, fallback, count, depth + 1);
  } else if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      check_node_budget(it->second, file, fallback, count, depth + 1);
  }
}

// yaml-cpp gives a null value the place of the next token; `fallback` (its key) reads better.
ConfigNode to_tree(const YAML::Node& node, const std::string& file, const SourcePlace& fallback,
                   TreeBudget& budget, int depth = 0) {
  ConfigNode out;
  out.place = node.IsNull() ? fallback : place_of(node.Mark(), file, fallback);
  if (depth > limits::config_depth) {
    fail_at(out.place, "the config nests maps and lists deeper than " +
                           std::to_string(limits::config_depth) +
                           " levels; a config needs a few, so flatten it");
  }
  if (++budget.nodes > limits::config_nodes) fail_too_many_nodes(out.place);
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      out.type = ConfigNode::Type::scalar;
      out.scalar = node.Scalar();
      out.quoted = node.Tag() == "!";  // yaml-cpp tags every quoted scalar "!"
      break;
    case YAML::NodeType::Sequence:
      out.type = ConfigNode::Type::list;
      for (const YAML::Node& item : node) {
        out.items.push_back(to_tree(item, file, out.place, budget, depth + 1));
      }
      break;
    case YAML::NodeType::Map:
      out.type = ConfigNode::Type::map;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const SourcePlace key_place = place_of(it->first.Mark(), file, out.place);
        if (!it->first.IsScalar()) {
          fail_at(key_place, "a key must be a plain name, not a list or map");
        }
        const std::string key = it->first.Scalar();
        for (const MapEntry& seen : out.entries) {
          if (seen.key == key) {
            fail_at(key_place, "duplicate key `" + clipped(key) + "` (first at line " +
                                   std::to_string(seen.key_place.line) + "); remove one of them");
          }
        }
        out.entries.push_back(
            MapEntry{key, key_place, to_tree(it->second, file, key_place, budget, depth + 1)});
      }
      break;
    default: break;  // null or undefined
  }
  return out;
}

// Every node of a `--set` value points at the flag, so errors name the flag.
void relabel(ConfigNode& node, const SourcePlace& place) {
  node.place = place;
  for (MapEntry& entry : node.entries) {
    entry.key_place = place;
    relabel(entry.value, place);
  }
  for (ConfigNode& item : node.items) relabel(item, place);
}

bool is_index(const std::string& text) {
  if (text.empty() || text.size() > 6) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Makes `node` a map that can take a key; a bare optimizer or initializer name becomes {name: x}.
void open_as_map(ConfigNode& node, const std::string& walked, const std::string& last_key,
                 const SourcePlace& flag) {
  if (node.type == ConfigNode::Type::map) return;
  if (node.type == ConfigNode::Type::null) {
    node.type = ConfigNode::Type::map;
    return;
  }
  const bool named =
      last_key == "optimizer" || last_key == "kernel_initializer" || last_key == "bias_initializer";
  if (node.type == ConfigNode::Type::scalar && named) {
    ConfigNode name = node;
    node = ConfigNode{};
    node.type = ConfigNode::Type::map;
    node.place = name.place;
    node.entries.push_back(MapEntry{"name", name.place, name});
    return;
  }
  fail_at(flag, "`" + walked + "` is a single value, not a map; use --set " + walked + "=VALUE");
}

// A layer item `{kind: args}`: a key other than `kind` means one of its arguments, so
// `model.2.rate` is short for `model.2.dropout.rate`.
ConfigNode* layer_arguments(ConfigNode& item, const std::string& next_key) {
  if (item.type == ConfigNode::Type::scalar && !item.quoted && item.scalar != next_key) {
    ConfigNode kind = item;
    item = ConfigNode{};
    item.type = ConfigNode::Type::map;
    item.place = kind.place;
    item.entries.push_back(MapEntry{kind.scalar, kind.place, ConfigNode{}});
    item.entries.back().value.place = kind.place;
  }
  if (item.type == ConfigNode::Type::map && item.entries.size() == 1 &&
      item.entries[0].key != next_key) {
    return &item.entries[0].value;
  }
  return nullptr;
}

void apply_override(ConfigNode& root, const std::string& flag_text) {
  const SourcePlace flag{"--set " + flag_text, 0, 0};
  const size_t eq = flag_text.find('=');
  if (eq == std::string::npos || eq == 0) {
    fail_at(flag, "expected key.path=value, e.g. --set training.epochs=3");
  }
  const std::string path = flag_text.substr(0, eq);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (parts.back().empty()) fail_at(flag, "the key path `" + path + "` has an empty part");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }

  YAML::Node parsed;
  try {
    parsed = YAML::Load(flag_text.substr(eq + 1));
  } catch (const YAML::DeepRecursion&) {
    fail_at(flag, "the value nests deeper than " + std::to_string(limits::config_depth) +
                      " levels; a config needs a few, so flatten it");
  } catch (const YAML::Exception& e) {
    fail_at(flag, "the value is not valid YAML (" + e.msg + "); quote it or fix it");
  }
  int64_t count = 0;
  check_node_budget(parsed, flag.file, flag, count);
  TreeBudget budget;
  ConfigNode value = to_tree(parsed, flag.file, flag, budget);
  relabel(value, flag);

  ConfigNode* node = &root;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (node->type == ConfigNode::Type::list) {
      const size_t count = node->items.size();
      if (!is_index(part) || std::stoul(part) >= count) {
        if (count == 0) fail_at(flag, "`" + walked + "` is an empty list; set it whole");
        fail_at(flag, "`" + walked + "` has " + std::to_string(count) +
                          " items; use an index from 0 to " + std::to_string(count - 1) +
                          " instead of `" + part + "`");
      }
      node = &node->items[std::stoul(part)];
      if (walked == "model" && i + 1 < parts.size()) {
        if (ConfigNode* args = layer_arguments(*node, parts[i + 1])) node = args;
      }
    } else {
      open_as_map(*node, walked, i > 0 ? parts[i - 1] : "", flag);
      MapEntry* found = nullptr;
      for (MapEntry& entry : node->entries) {
        if (entry.key == part) found = &entry;
      }
      if (!found) {
        node->entries.push_back(MapEntry{part, flag, ConfigNode{}});
        found = &node->entries.back();
        found->value.place = flag;
      }
      node = &found->value;
    }
    walked += (walked.empty() ? "" : ".") + part;
  }
  *node = value;
}

}  // namespace

RunConfig parse_config(const std::string& yaml_text, const std::string& file_label,
                       const std::vector<std::string>& overrides) {
  const SourcePlace file_place{file_label, 0, 0};
  if (static_cast<int64_t>(yaml_text.size()) > limits::config_bytes) {
    fail_at(file_place, "the config is " + std::to_string(yaml_text.size()) +
                            " bytes, more than the " + std::to_string(limits::config_bytes) +
                            " a config may have; is this the right file?");
  }
  YAML::Node document;
  try {
    document = YAML::Load(yaml_text);
  } catch (const YAML::DeepRecursion& e) {
    fail_at(SourcePlace{file_label, e.mark.line + 1, e.mark.column + 1},
            "the config nests deeper than " + std::to_string(limits::config_depth) +
                " levels; a config needs a few, so flatten it");
  } catch (const YAML::ParserException& e) {
    fail_at(SourcePlace{file_label, e.mark.line + 1, e.mark.column + 1},
            "not valid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    fail_at(file_place, "not valid YAML: " + e.msg);
  }
  int64_t count = 0;
  check_node_budget(document, file_label, file_place, count);
  TreeBudget budget;
  ConfigNode root = to_tree(document, file_label, file_place, budget);
  if (root.type == ConfigNode::Type::null) {
    fail_at(file_place, "the config is empty; start from configs/mnist_recipe.yaml");
  }
  if (root.type != ConfigNode::Type::map) {
    fail_at(root.place,
            "a config is a map of keys (seed:, data:, model:, training:), "
            "not a list or a single value");
  }
  // A value that a later override replaces is checked all the same: the tree is decoded before
  // each override (the file's values, then each earlier flag's), so a bad value is an error even
  // when `--set` or a flag that becomes one (train's --epochs, --seed, ...) overrides it.
  for (const std::string& override_text : overrides) {
    config_detail::decode_config(root);
    apply_override(root, override_text);
  }

  RunConfig config = config_detail::decode_config(root);
  config.path = file_label;
  config.name = std::filesystem::path(file_label).stem().string();
  validate(config);
  return config;
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path, limits::config_bytes), path, overrides);
}

}  // namespace repro
