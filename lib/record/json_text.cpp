// Tolerant JSON parsing with places: a token scan maps every parser event to its byte offset and
// swaps NaN/Infinity for a same-length "0" so nlohmann's strict parser accepts the text while
// every later position stays where it was.
#include "record/json_text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <vector>

#include "core/error.h"

namespace repro {
namespace {

// Values in one text at most: node numbers fit 32 bits, and memory stays a few hundred MB.
constexpr size_t kMaxNodes = size_t{1} << 24;

// One token that produces a parser event (every token except ':' and ',').
struct EventToken {
  size_t offset = 0;
  bool special = false;  // NaN, Infinity or -Infinity, replaced by "0" in the parsed text
  double special_value = 0;
};

// Byte offsets of line starts, to turn an offset into line and column.
class LineIndex {
 public:
  LineIndex(std::string_view text, int first_line) : first_line_(first_line) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  JsonPlace place(size_t offset) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    size_t line = static_cast<size_t>(it - starts_.begin());  // 1-based
    return {first_line_ + static_cast<int>(line) - 1,
            static_cast<int>(offset - starts_[line - 1]) + 1};
  }

 private:
  int first_line_;
  std::vector<size_t> starts_;
};

bool is_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_number_char(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
         c == '+' || c == '-';
}

// Lists the event tokens of `text` and rewrites Python's non-finite tokens in `rewritten`.
// Malformed text scans without failing: the parser reports the error, the scan only gives places.
std::vector<EventToken> scan_tokens(std::string_view text, std::string& rewritten) {
  rewritten.assign(text);
  std::vector<EventToken> tokens;
  size_t i = 0, n = text.size();
  auto run_of_letters = [&](size_t from) {
    size_t end = from;
    while (end < n && is_letter(text[end])) ++end;
    return end;
  };
  auto glued_to_previous = [&](size_t at) {
    return at > 0 && (is_number_char(text[at - 1]) || is_letter(text[at - 1]));
  };
  auto replace = [&](size_t at, size_t length, double value) {
    rewritten[at] = '0';
    for (size_t k = 1; k < length; ++k) rewritten[at + k] = ' ';
    tokens.push_back({at, true, value});
  };
  while (i < n) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == ',') {
      ++i;
    } else if (c == '{' || c == '}' || c == '[' || c == ']') {
      tokens.push_back({i});
      ++i;
    } else if (c == '"') {
      tokens.push_back({i});
      ++i;
      while (i < n && text[i] != '"') i += (text[i] == '\\') ? 2 : 1;
      ++i;
    } else if (c == '-' && !glued_to_previous(i) &&
               text.substr(i + 1, run_of_letters(i + 1) - i - 1) == "Infinity") {
      replace(i, 9, -std::numeric_limits<double>::infinity());
      i += 9;
    } else if (is_letter(c)) {
      size_t end = run_of_letters(i);
      std::string_view word = text.substr(i, end - i);
      if (!glued_to_previous(i) && word == "NaN") {
        replace(i, 3, std::numeric_limits<double>::quiet_NaN());
      } else if (!glued_to_previous(i) && word == "Infinity") {
        replace(i, 8, std::numeric_limits<double>::infinity());
      } else {
        tokens.push_back({i});
      }
      i = end;
    } else if (is_number_char(c)) {
      tokens.push_back({i});
      while (i < n && is_number_char(text[i])) ++i;
    } else {
      ++i;  // not JSON: the parser reports it
    }
  }
  return tokens;
}

// "[json.exception.parse_error.101] parse error at line 1, column 4: syntax error while parsing
// value - unexpected ']'" -> "unexpected ']'".
std::string short_parser_message(const std::string& what) {
  std::string message = what;
  size_t bracket = message.find("] ");
  if (message.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
    message = message.substr(bracket + 2);
  }
  size_t last_read =
      message.find("; last read");  // it shows the rewritten text: replaced by "near"
  if (last_read != std::string::npos) message = message.substr(0, last_read);
  size_t dash = message.find(" - ");
  if (dash != std::string::npos) return message.substr(dash + 3);
  size_t colon = message.find(": ");
  if (message.rfind("parse error", 0) == 0 && colon != std::string::npos) {
    return message.substr(colon + 2);
  }
  return message;
}

// Builds an ordered_json DOM from parser events, recording where each value starts. Refuses a
// duplicate key and nesting past kMaxJsonDepth before it allocates anything for them.
class DomBuilder : public nlohmann::json_sax<nlohmann::ordered_json> {
 public:
  DomBuilder(const std::vector<EventToken>& tokens, const LineIndex& lines, ParsedJson& out)
      : tokens_(tokens), lines_(lines), out_(out) {}

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add_number(value); }
  bool number_unsigned(number_unsigned_t value) override { return add_number(value); }
  bool number_float(number_float_t value, const string_t&) override { return add_number(value); }
  bool string(string_t& value) override { return add(value); }
  bool binary(binary_t&) override { return fail_here("binary values are not JSON text"); }
  bool start_object(std::size_t) override {
    if (too_deep()) return false;
    if (!add(nlohmann::ordered_json::object())) return false;
    stack_.push_back(current_);
    return true;
  }
  bool key(string_t& name) override {
    size_t offset = next_offset();
    if (!stack_.back().keys.insert(name).second) {
      error_offset_ = offset;
      error_ = "duplicate key " + quoted_name(name) + "; keep only one";
      return false;
    }
    pending_key_ = name;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    if (too_deep()) return false;
    if (!add(nlohmann::ordered_json::array())) return false;
    stack_.push_back(current_);
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_offset_ = position > 0 ? position - 1 : 0;
    error_ = short_parser_message(ex.what());
    syntax_error_ = true;
    return false;
  }

  size_t error_offset() const { return error_offset_; }
  const std::string& error() const { return error_; }
  bool syntax_error() const { return syntax_error_; }

 private:
  using Object = nlohmann::ordered_json::object_t;

  struct Slot {
    nlohmann::ordered_json* value;
    size_t node;                 // index into out_.nodes
    std::set<std::string> keys;  // an open object's keys so far (ordered: no hash flooding)
  };

  // The open object or array ends: its descendants are the nodes up to here.
  bool close() {
    next_offset();
    out_.nodes[stack_.back().node].end = static_cast<uint32_t>(out_.nodes.size());
    stack_.pop_back();
    return true;
  }
  size_t next_offset() {
    size_t index = event_++;
    return index < tokens_.size() ? tokens_[index].offset : 0;
  }
  bool fail_here(const std::string& message) {
    error_offset_ = next_offset();
    error_ = message;
    return false;
  }
  // The bracket about to open would be level kMaxJsonDepth + 1.
  bool too_deep() {
    if (stack_.size() < kMaxJsonDepth) return false;
    fail_here("arrays and objects nested " + std::to_string(stack_.size() + 1) +
              " levels deep; repro reads at most " + std::to_string(kMaxJsonDepth) +
              " levels (its own files use 4): is this the right file?");
    return true;
  }
  template <typename Number>
  bool add_number(Number value) {
    size_t index = event_;
    if (index < tokens_.size() && tokens_[index].special) return add(tokens_[index].special_value);
    return add(value);
  }
  // Places `value` under the open object or array (or as the root) and records its place.
  bool add(nlohmann::ordered_json value) {
    size_t offset = next_offset();
    size_t node = out_.nodes.size();
    if (node >= kMaxNodes) {
      error_offset_ = offset;
      error_ = "more than " + std::to_string(kMaxNodes) + " values; is this the right file?";
      return false;
    }
    nlohmann::ordered_json* slot = nullptr;
    if (stack_.empty()) {
      out_.value = std::move(value);
      slot = &out_.value;
    } else {
      Slot& parent = stack_.back();
      if (parent.value->is_object()) {
        // key() refused duplicates, so append without ordered_map's linear search per key.
        auto& entries = static_cast<Object::Container&>(parent.value->get_ref<Object&>());
        entries.emplace_back(std::move(pending_key_), std::move(value));
        slot = &entries.back().second;
      } else {
        parent.value->push_back(std::move(value));
        slot = &parent.value->back();
      }
    }
    out_.nodes.push_back({lines_.place(offset), static_cast<uint32_t>(node + 1)});
    current_ = {slot, node, {}};
    return true;
  }

  const std::vector<EventToken>& tokens_;
  const LineIndex& lines_;
  ParsedJson& out_;
  std::vector<Slot> stack_;
  Slot current_{nullptr, 0, {}};
  std::string pending_key_;
  size_t event_ = 0;
  size_t error_offset_ = 0;
  std::string error_;
  bool syntax_error_ = false;
};

// The plain nlohmann::json of an ordered one; the depth is bounded by the parser.
nlohmann::json to_plain_json(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [key, item] : value.items()) out[key] = to_plain_json(item);
      return out;
    }
    case nlohmann::ordered_json::value_t::array: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : value) out.push_back(to_plain_json(item));
      return out;
    }
    case nlohmann::ordered_json::value_t::string: return value.get<std::string>();
    case nlohmann::ordered_json::value_t::boolean: return value.get<bool>();
    case nlohmann::ordered_json::value_t::number_integer: return value.get<int64_t>();
    case nlohmann::ordered_json::value_t::number_unsigned: return value.get<uint64_t>();
    case nlohmann::ordered_json::value_t::number_float: return value.get<double>();
    default: return nullptr;
  }
}

}  // namespace

std::string json_pointer_child(const std::string& parent, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return parent + "/" + escaped;
}

ParsedJson parse_json_text(std::string_view text, const std::string& file, int first_line) {
  ParsedJson out;
  out.file = file;
  std::string rewritten;
  std::vector<EventToken> tokens = scan_tokens(text, rewritten);
  LineIndex lines(text, first_line);
  DomBuilder builder(tokens, lines, out);
  bool ok = nlohmann::ordered_json::sax_parse(rewritten, &builder);
  if (!ok) {
    size_t offset = std::min(builder.error_offset(), text.size());
    JsonPlace place = lines.place(offset);
    std::string message = clipped(builder.error(), 200);
    if (builder.syntax_error() && offset >= text.size()) {
      message = "invalid JSON: " + message + "; is the file complete?";
    } else if (builder.syntax_error()) {
      std::string_view rest = text.substr(offset, 12);
      message = "invalid JSON at '" + clipped(rest.substr(0, rest.find('\n'))) + "': " + message;
    }
    throw InputError(at_place(file, place.line, place.col, message));
  }
  return out;
}

std::string quoted_name(std::string_view text) { return "\"" + clipped(text) + "\""; }

nlohmann::json parse_json_bounded(std::string_view text, const std::string& file) {
  return to_plain_json(parse_json_text(text, file).value);
}

JsonPlace json_place(const ParsedJson& json, const std::string& pointer) {
  if (json.nodes.empty()) return {};
  size_t node = 0;
  const nlohmann::ordered_json* value = &json.value;
  size_t at = 0;
  while (at < pointer.size()) {
    if (pointer[at] != '/') return {};
    size_t end = pointer.find('/', at + 1);
    if (end == std::string::npos) end = pointer.size();
    std::string key;
    for (size_t i = at + 1; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        key += pointer[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        key += pointer[i];
      }
    }
    // The child's position among its siblings, from the DOM.
    size_t position = 0;
    if (value->is_object()) {
      const auto& entries = value->get_ref<const nlohmann::ordered_json::object_t&>();
      auto it = std::find_if(entries.begin(), entries.end(),
                             [&key](const auto& entry) { return entry.first == key; });
      if (it == entries.end()) return {};
      position = static_cast<size_t>(it - entries.begin());
      value = &it->second;
    } else if (value->is_array()) {
      if (key.empty() || key.size() > 19 ||
          key.find_first_not_of("0123456789") != std::string::npos) {
        return {};
      }
      position = std::stoull(key);
      if (position >= value->size()) return {};
      value = &(*value)[position];
    } else {
      return {};
    }
    // The first child follows its parent; each sibling follows the previous one's descendants.
    size_t child = node + 1;
    for (size_t i = 0; i < position && child < json.nodes.size(); ++i)
      child = json.nodes[child].end;
    if (child >= json.nodes.size()) return {};
    node = child;
    at = end;
  }
  return json.nodes[node].place;
}

std::string json_error_at(const ParsedJson& json, const std::string& pointer,
                          const std::string& message) {
  JsonPlace place = json_place(json, pointer);
  return at_place(json.file, place.line, place.col, message);
}

}  // namespace repro
