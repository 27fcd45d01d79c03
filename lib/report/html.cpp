// HTML escaping and SVG number text. Escaping works on bytes: UTF-8 passes through unchanged, so
// a folder or tensor name in any script reads as written.
#include "report/html.h"

#include <cstdio>

namespace repro {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
          out += "&#xFFFD;";
        else
          out += c;
    }
  }
  return out;
}

std::string svg_number(double value) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

}  // namespace repro
