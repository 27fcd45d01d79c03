// history.json writer and reader, and Python's float repr. The writer reproduces json.dump's
// bytes; the reader accepts any metric keys but nothing other than lists of numbers.
#include "record/history.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/fs.h"
#include "record/json_text.h"

namespace repro {

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string sign = std::signbit(value) ? "-" : "";
  if (value == 0) return sign + "0.0";

  // The shortest round-trip digits, as "d.ddde+XX"; Python picks the same digits (David Gay's
  // shortest mode) and only lays them out differently.
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(value),
                              std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  size_t e = scientific.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (scientific[i] != '.') digits += scientific[i];
  }
  int exponent = std::atoi(scientific.c_str() + e + 1);
  int point = exponent + 1;  // digits before the decimal point

  // CPython's float_repr_style 'short': scientific when point <= -4 or point > 16.
  // (Built with append: g++ 12 warns falsely on "literal" + std::string temporaries.)
  std::string out = sign;
  if (point <= -4 || point > 16) {
    out += digits[0];
    if (digits.size() > 1) out.append(".").append(digits, 1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    out += exp_text;
  } else if (point <= 0) {
    out.append("0.").append(static_cast<size_t>(-point), '0').append(digits);
  } else if (static_cast<size_t>(point) >= digits.size()) {
    out.append(digits).append(static_cast<size_t>(point) - digits.size(), '0').append(".0");
  } else {
    out.append(digits, 0, static_cast<size_t>(point))
        .append(".")
        .append(digits, static_cast<size_t>(point));
  }
  return out;
}

// json.dump's float spelling: repr, except the non-finite values.
static std::string json_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return python_float_repr(value);
}

// json.dump's string spelling (ensure_ascii=True): escapes quotes, backslashes, control and
// non-ASCII characters (as UTF-16 \uXXXX).
static std::string json_string(const std::string& text) {
  std::string out = "\"";
  auto hex4 = [&out](unsigned code) {
    char buffer[16];  // "\\u" and 4 hex digits; room for any unsigned
    std::snprintf(buffer, sizeof buffer, "\\u%04x", code);
    out += buffer;
  };
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20)
            hex4(c);
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // One UTF-8 sequence -> its code point, written as UTF-16 escapes (a surrogate pair above
    // U+FFFF); a stray continuation byte is written as its own value.
    int length = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
    unsigned code = (length == 1) ? c : (c & (0x3F >> (length - 1)));
    for (int k = 1; k < length && i + static_cast<size_t>(k) < text.size(); ++k) {
      code = (code << 6) | (static_cast<unsigned char>(text[i + static_cast<size_t>(k)]) & 0x3F);
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      hex4(0xD800 + (code >> 10));
      hex4(0xDC00 + (code & 0x3FF));
    } else {
      hex4(code);
    }
    i += static_cast<size_t>(length);
  }
  return out + "\"";
}

std::string history_to_json(const History& history) {
  std::string out = "{";
  bool first_key = true;
  for (const auto& [key, values] : history) {
    if (!first_key) out += ", ";
    first_key = false;
    out += json_string(key) + ": [";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ", ";
      out += json_float(values[i]);
    }
    out += "]";
  }
  return out + "}";
}

void write_history(const std::string& path, const History& history) {
  write_file_atomic(path, history_to_json(history));
}

History parse_history(const std::string& json_text, const std::string& file_label) {
  ParsedJson json = parse_json_text(json_text, file_label);
  if (!json.value.is_object()) {
    throw InputError(json_error_at(
        json, "", "expected a Keras history: an object of lists, like {\"loss\": [0.5, 0.4]}"));
  }
  History history;
  for (const auto& [key, values] : json.value.items()) {
    std::string pointer = json_pointer_child("", key);
    if (!values.is_array()) {
      throw InputError(json_error_at(json, pointer,
                                     quoted_name(key) +
                                         " must be a list of numbers (one per epoch), not " +
                                         std::string(values.type_name())));
    }
    std::vector<double>& out = history[key];
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i].is_number()) {
        throw InputError(json_error_at(json, pointer + "/" + std::to_string(i),
                                       quoted_name(key) + "[" + std::to_string(i) +
                                           "] must be a number, not " +
                                           std::string(values[i].type_name())));
      }
      out.push_back(values[i].get<double>());
    }
  }
  return history;
}

History read_history(const std::string& path) {
  return parse_history(read_file(path, kMaxRecordFileBytes), path);
}

}  // namespace repro
