// Formatting helpers for repro's typed errors.
#include "core/error.h"

namespace repro {

std::string at_place(const std::string& file, int line, int col, const std::string& message) {
  if (line <= 0) return one_line(file + ": " + message);
  return one_line(file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message);
}

std::string one_line(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string clipped(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return one_line(std::string(text));
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return one_line(std::string(text.substr(0, cut))) + "... (" + std::to_string(text.size()) +
         " bytes)";
}

void fail_check(const char* condition, const char* file, int line, const std::string& detail) {
  throw RuntimeError(std::string("internal check failed: ") + condition + " (" + file + ":" +
                     std::to_string(line) + "): " + detail);
}

}  // namespace repro
