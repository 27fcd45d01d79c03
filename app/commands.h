// Each subcommand lives in its own file as an options struct, setup_X and run_X.
// setup_X adds the subcommand to `app`; when it runs, it stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace repro {
struct CompareOptions;
}

namespace repro::app {

// A flag's integer range, checked on its text: `--epochs 0` and a number past 64 bits both say
// "must be an integer from 1 to 1000000 (got ...)".
CLI::Validator integer_range(int64_t lo, int64_t hi);

// A tolerance (--rtol, --atol): a finite number of at least 0.
CLI::Validator tolerance();

// --rtol, --atol (numpy.allclose), --exact and --equal-nan into `options`: the same flags and
// words for repro compare and repro report.
void add_compare_flags(CLI::App* cmd, CompareOptions& options);

// A word where a command is expected that names none ("repro frobnicate"), or no command where
// one is needed ("repro data"): the message names the word and lists the valid commands.
// Empty when the command words are fine.
std::string unknown_command(const CLI::App& app, int argc, char** argv);

// "repro train": the command words of argv that name (sub)commands, for "see ... --help".
std::string command_path(const CLI::App& app, int argc, char** argv);

// CLI11's parse error in repro's words, ending with the command's help: "The following argument
// was not expected: 4" -> "unexpected argument 4", "--vary: At Most 1 required but received 2" ->
// "--vary: takes at most 1 value (got 2)"; others as CLI11 words them.
std::string flag_error(const std::string& cli11_message, const std::string& command);

// `path` as one shell word for a command line repro suggests: as it is when it holds only
// letters, digits and ._/-+=:@,%; else in single quotes ('it'\''s').
std::string shell_word(const std::string& path);

void setup_train(CLI::App& app, int& exit_code);
void setup_compare(CLI::App& app, int& exit_code);
void setup_summary(CLI::App& app, int& exit_code);
void setup_initializers(CLI::App& app, int& exit_code);
void setup_data(CLI::App& app, int& exit_code);
void setup_check(CLI::App& app, int& exit_code);
void setup_env(CLI::App& app, int& exit_code);
void setup_report(CLI::App& app, int& exit_code);
void setup_import(CLI::App& app, int& exit_code);
void setup_evaluate(CLI::App& app, int& exit_code);
void setup_predict(CLI::App& app, int& exit_code);
void setup_export(CLI::App& app, int& exit_code);
void setup_schema(CLI::App& app, int& exit_code);
// repro man and repro completion bash|zsh|fish, generated from the commands defined on `app`
// (call it last, after every other setup_*).
void setup_docs(CLI::App& app, int& exit_code, const std::string& version);

}  // namespace repro::app
