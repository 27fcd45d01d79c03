// Runs the built `repro` binary for end-to-end tests: stdout, stderr and the exit code, and
// where the MNIST test data is (skipping cleanly without it).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repro_test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A scratch folder private to this test process.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("repro_" + name + "_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs a shell line from the source tree: stdout, stderr and the exit code.
inline CliResult run_shell(const std::string& line, bool merge_stderr = true) {
  const auto dir = scratch_dir("cli");
  const std::string command =
      "cd '" + std::string(REPRO_SOURCE_DIR) + "' && " + line + " >'" + (dir / "out").string() +
      "' " + (merge_stderr ? std::string("2>&1") : "2>'" + (dir / "err").string() + "'");
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp_file(dir / "out");
  result.err = slurp_file(dir / "err");
  std::error_code ignore;
  std::filesystem::remove_all(dir, ignore);
  return result;
}

// Runs `ENV repro ARGS` from the source tree.
inline CliResult run_repro(const std::string& env, const std::string& args) {
  return run_shell(env + " '" + REPRO_EXE + "' " + args, false);
}

// Runs a check script (`command`, a shell line, stdout and stderr together) from the source tree.
// Its exit code 77 means it cannot run here: the test then prints REPRO_SKIPPED with the reason
// the script gave on its last line ("SKIPPED: ...") and `skipped` is true.
struct ScriptResult {
  int exit_code = -1;
  std::string out;
  bool skipped = false;
};
inline ScriptResult run_check_script(const std::string& command) {
  const CliResult r = run_shell(command);
  ScriptResult result{r.exit_code, r.out, r.exit_code == 77};
  if (result.skipped) {
    const size_t at = r.out.rfind("SKIPPED: ");
    std::cout << "REPRO_SKIPPED: " << (at == std::string::npos ? r.out : r.out.substr(at + 9))
              << std::flush;
  }
  return result;
}

// $REPRO_DATA_DIR, else ../shared/data beside the source tree, when it holds mnist/; else "".
inline std::string mnist_parent_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("REPRO_DATA_DIR")) candidates.push_back(env);
  candidates.push_back(std::string(REPRO_SOURCE_DIR) + "/../shared/data");
  for (const std::string& c : candidates)
    if (std::filesystem::exists(std::filesystem::path(c) / "mnist" / "train-images-idx3-ubyte.gz"))
      return c;
  return "";
}

// The environment that points `repro` at mnist_parent_dir(), or "" without the data (the
// test then skips).
inline std::string data_env() {
  const std::string data = mnist_parent_dir();
  return data.empty() ? "" : "REPRO_DATA_DIR='" + data + "'";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A text field of a run folder's run.json (weights_sha256, config_yaml, ...).
inline std::string run_json_field(const std::filesystem::path& run, const char* key) {
  return nlohmann::json::parse(slurp_file(run / "run.json")).at(key).get<std::string>();
}

}  // namespace repro_test
