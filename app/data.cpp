// repro data: not built yet (placeholder until its issue lands).
#include "commands.h"
#include "core/error.h"

namespace repro::app {

void setup_data(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("data", "(not built yet)");
  cmd->allow_extras();
  cmd->callback([&exit_code] { throw RuntimeError("repro data is not built yet"); });
}

}  // namespace repro::app
