// Each subcommand lives in its own file as an options struct, setup_X and run_X.
// setup_X adds the subcommand to `app`; when it runs, it stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace repro::app {

void setup_train(CLI::App& app, int& exit_code);
void setup_compare(CLI::App& app, int& exit_code);
void setup_summary(CLI::App& app, int& exit_code);
void setup_initializers(CLI::App& app, int& exit_code);
void setup_data(CLI::App& app, int& exit_code);
void setup_check(CLI::App& app, int& exit_code);
void setup_env(CLI::App& app, int& exit_code);

}  // namespace repro::app
