// What every harness expects of the code under test: bad input ends in repro::InputError with a
// one-line message. Any other exception, a crash, a leak or a hang is the fuzzer's finding.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace repro_fuzz {

// Stops the run (a finding) with `what`.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

// REPRO_FUZZ_ALLOW_MULTILINE=1 lets a run go past a known multi-line message to look for crashes.
inline bool multiline_allowed() {
  static const bool allowed = [] {
    const char* value = std::getenv("REPRO_FUZZ_ALLOW_MULTILINE");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return allowed;
}

// Runs `body`; an InputError is the expected answer to bad input, as long as its message is one
// line (app/main.cpp prints it as "repro: MESSAGE"). Everything else propagates.
template <typename Body>
void expect_input_error(Body&& body) {
  try {
    body();
  } catch (const repro::InputError& e) {
    if (std::strchr(e.what(), '\n') != nullptr && !multiline_allowed()) {
      finding(std::string("an InputError message spans lines: ") + e.what());
    }
  }
}

// `data` cut at every NUL byte: the first part and the parts after each NUL.
inline std::vector<std::string> split_at_nul(const uint8_t* data, size_t size) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      parts.emplace_back();
    } else {
      parts.back() += static_cast<char>(data[i]);
    }
  }
  return parts;
}

}  // namespace repro_fuzz
