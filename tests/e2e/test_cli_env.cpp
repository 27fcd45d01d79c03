// repro env end to end: the fingerprint as text and as JSON.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace {

// stdout of `repro ARGS`, and its exit code.
std::string capture_repro(const std::string& args, int& exit_code) {
  std::string command = std::string(REPRO_EXE) + " " + args;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  int status = ::pclose(pipe);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace

TEST_CASE("repro env prints the fingerprint, and --json prints the same entries as JSON") {
  int code = -1;
  std::string text = capture_repro("env", code);
  CHECK(code == 0);
  for (const char* key :
       {"cpu_model:", "cpu_isa:", "compiler:", "os:", "cores:", "repro_version:"}) {
    CHECK(text.find(key) != std::string::npos);
  }
  std::string json_text = capture_repro("env --json", code);
  CHECK(code == 0);
  nlohmann::json env = nlohmann::json::parse(json_text);
  CHECK(env["repro_version"] == REPRO_VERSION);
  CHECK(text.find("cpu_isa:         " + env["cpu_isa"].get<std::string>()) != std::string::npos);
  // The oneDNN version, the same words as repro --version's backend line.
  const std::string onednn = env["onednn"].get<std::string>();
  CHECK(onednn.rfind("oneDNN ", 0) == 0);
  CHECK(text.find("onednn:          " + onednn) != std::string::npos);
  CHECK(capture_repro("--version", code).find("backend: " + onednn) != std::string::npos);
}

TEST_CASE("repro --version names the version, the commit, the compiler and the libraries") {
  int code = -1;
  const std::string text = capture_repro("--version", code);
  INFO(text);
  CHECK(code == 0);
  CHECK(text.rfind(std::string("repro ") + REPRO_VERSION + " (commit ", 0) == 0);
  CHECK(text.find("(commit unknown)") == std::string::npos);  // the tests run in a checkout
  CHECK(text.find("\ncompiler: ") != std::string::npos);
  CHECK(text.find("\nbackend: oneDNN ") != std::string::npos);
  CHECK(text.find("\nMPI: ") != std::string::npos);
  CHECK(text.find("\nCUDA module: ") != std::string::npos);
}
