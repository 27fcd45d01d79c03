// Typed errors that lib/ throws and app/main.cpp turns into one-line messages and exit codes.
// lib/ never prints and never exits; every message names the place and says how to fix it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace repro {

// Bad input from the user: a config, a data file, a flag (exit code 2).
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something failed while running: a library call, the disk, the network (exit code 3).
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "FILE:LINE:COL: message" with 1-based line and column; line 0 means "no place known".
std::string at_place(const std::string& file, int line, int col, const std::string& message);

// `text` with control characters written as escapes (\n, \t, \x01): an error stays one line
// whatever the input it quotes.
std::string one_line(const std::string& text);

// `text` fit for quoting in a one-line message: control characters escaped (one_line), cut to
// about `max_chars` bytes at a UTF-8 boundary with its whole length noted ("... (812 bytes)").
std::string clipped(std::string_view text, size_t max_chars = 60);

// Throws RuntimeError("what failed (file:line): detail") from the REPRO_CHECK macro.
[[noreturn]] void fail_check(const char* condition, const char* file, int line,
                             const std::string& detail);

}  // namespace repro

// An internal invariant that stays checked in Release builds.
#define REPRO_CHECK(cond, detail)                                          \
  do {                                                                     \
    if (!(cond)) ::repro::fail_check(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)
