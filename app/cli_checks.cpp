// Checks on the command line that CLI11 words poorly: integer ranges stated in words, and an
// unknown command named with the valid ones; the tolerance flags compare and report share; paths
// quoted for the commands repro suggests. Parses nothing itself.
#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>

#include "commands.h"
#include "compare/compare.h"

namespace repro::app {

CLI::Validator integer_range(int64_t lo, int64_t hi) {
  const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        int64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ec == std::errc::result_out_of_range && ptr == end) {
          return "must be " + range + " (got " + text + ", past the 64-bit integer range)";
        }
        if (ec != std::errc() || ptr != end || value < lo || value > hi) {
          return "must be " + range + " (got " + text + ")";
        }
        return "";
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator tolerance() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0) {
          return "must be a finite number of at least 0, e.g. 1e-05 (got " + text + ")";
        }
        return "";
      },
      "NUMBER >= 0");
}

void add_compare_flags(CLI::App* cmd, CompareOptions& options) {
  cmd->add_option("--rtol", options.rtol, "relative tolerance, numpy.allclose")
      ->check(tolerance())
      ->capture_default_str();
  cmd->add_option("--atol", options.atol, "absolute tolerance, numpy.allclose")
      ->check(tolerance())
      ->capture_default_str();
  cmd->add_flag(
      "--exact", options.exact,
      "identical bits (-0.0 differs from 0.0, NaN equals NaN); weight digests and traces count");
  cmd->add_flag("--equal-nan", options.equal_nan, "NaN in both places counts as equal");
}

std::string shell_word(const std::string& path) {
  const std::string plain = "._/-+=:@,%";
  bool quote = path.empty();
  for (const char c : path) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && plain.find(c) == std::string::npos)
      quote = true;
  }
  if (!quote) return path;
  std::string out = "'";
  for (const char c : path) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_path(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path = "repro";
  for (int i = 1; i < argc; ++i) {
    const CLI::App* found = nullptr;
    for (const CLI::App* command : current->get_subcommands({}))
      if (command->get_name() == argv[i]) found = command;
    if (!found) break;
    current = found;
    path += std::string(" ") + argv[i];
  }
  return path;
}

std::string flag_error(const std::string& cli11_message, const std::string& command) {
  std::string message = cli11_message;
  const std::string one = "The following argument was not expected: ",
                    several = "The following arguments were not expected: ";
  std::smatch at_most;
  if (message.rfind(one, 0) == 0) {
    message = "unexpected argument " + message.substr(one.size());
  } else if (message.rfind(several, 0) == 0) {
    message = "unexpected arguments " + message.substr(several.size());
  } else if (std::regex_match(
                 message, at_most,
                 std::regex("(.*): At Most ([0-9]+) required but received ([0-9]+)"))) {
    message = at_most[1].str() + ": takes at most " + at_most[2].str() + " value" +
              (at_most[2].str() == "1" ? "" : "s") + " (got " + at_most[3].str() + ")";
  }
  return message + " (see " + command + " --help)";
}

std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path = "repro";
  auto valid_commands = [&] {
    std::string valid;
    for (const CLI::App* command : current->get_subcommands({})) {
      valid += (valid.empty() ? "" : ", ") + command->get_name();
    }
    return valid;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    // An option may take a value; past the first one, leave the words to CLI11.
    if (word.empty() || word[0] == '-') return "";
    const std::vector<const CLI::App*> commands = current->get_subcommands({});
    if (commands.empty()) return "";
    const CLI::App* found = nullptr;
    for (const CLI::App* command : commands) {
      if (command->get_name() == word) found = command;
    }
    if (!found) {
      return "unknown command `" + word + "` for " + path +
             "; valid commands: " + valid_commands() + " (see " + path + " --help)";
    }
    current = found;
    path += " " + word;
  }
  if (current->get_require_subcommand_min() > 0) {
    return path + " needs a command; valid commands: " + valid_commands() + " (see " + path +
           " --help)";
  }
  return "";
}

}  // namespace repro::app
