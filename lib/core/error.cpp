// Formatting helpers for repro's typed errors.
#include "core/error.h"

namespace repro {

std::string at_place(const std::string& file, int line, int col, const std::string& message) {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

void fail_check(const char* condition, const char* file, int line, const std::string& detail) {
  throw RuntimeError(std::string("internal check failed: ") + condition + " (" + file + ":" +
                     std::to_string(line) + "): " + detail);
}

}  // namespace repro
