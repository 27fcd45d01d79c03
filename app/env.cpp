// repro env: prints what results depend on (the environment fingerprint that run.json records)
// (CPU, ISA, compiler, OS, cores), and the oneDNN library the CPU backends run on (run.json
// records it with the backend's description). Needs no config and changes nothing.
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "backend/onednn/onednn_backend.h"
#include "commands.h"
#include "core/error.h"
#include "record/run_record.h"

namespace repro::app {

struct EnvOptions {
  bool json = false;
};

int run_env(const EnvOptions& options) {
  std::map<std::string, std::string> env = environment_fingerprint();
  env["onednn"] = onednn_version();
  if (options.json) {
    std::cout << nlohmann::json(env).dump(2) << "\n";
    return 0;
  }
  for (const auto& [key, value] : env)
    std::printf("%-16s %s\n", (key + ":").c_str(), value.c_str());
  return 0;
}

void setup_env(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EnvOptions>();
  auto* cmd = app.add_subcommand(
      "env",
      "Print the environment fingerprint (CPU, ISA, compiler, OS, cores) and the oneDNN version");
  cmd->add_flag("--json", options->json, "print it as a JSON object");
  cmd->callback([options, &exit_code] { exit_code = run_env(*options); });
}

}  // namespace repro::app
