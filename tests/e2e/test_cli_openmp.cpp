// repro shortens OpenMP's spin-wait before libgomp loads (app/main.cpp): the running process has
// GOMP_SPINCOUNT=1000 in its environment unless the user set a spin or wait policy.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "run_cli.h"

extern char** environ;

namespace {

// Starts `repro summary FIFO` (it blocks opening the FIFO) with `extra` added to an environment
// free of OpenMP settings, reads the process's environment once it holds `wanted` (or after 10 s),
// then lets it go. Returns the environment text, NUL-separated entries.
std::string environment_of_running_repro(const std::string& extra, const std::string& wanted) {
  const auto dir = repro_test::scratch_dir("openmp");
  const std::string fifo = (dir / "config.yaml").string();
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (entry.rfind("GOMP_SPINCOUNT=", 0) != 0 && entry.rfind("OMP_WAIT_POLICY=", 0) != 0)
      env.push_back(entry);
  }
  if (!extra.empty()) env.push_back(extra);
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string exe = REPRO_EXE, command = "summary";
  std::vector<char*> argv{exe.data(), command.data(), const_cast<char*>(fifo.c_str()), nullptr};
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);

  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    text = repro_test::slurp_file("/proc/" + std::to_string(pid) + "/environ");
    if (text.find(wanted) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int writer = ::open(fifo.c_str(), O_WRONLY);  // releases the blocked open; EOF follows
  if (writer >= 0) ::close(writer);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove_all(dir);
  return text;
}

bool has_entry(const std::string& environment, const std::string& entry) {
  return environment.find(std::string(1, '\0') + entry + '\0') != std::string::npos ||
         environment.rfind(entry + '\0', 0) == 0;
}

}  // namespace

TEST_CASE("repro runs with a short OpenMP spin unless the user chose one") {
  CHECK(has_entry(environment_of_running_repro("", "GOMP_SPINCOUNT=1000"), "GOMP_SPINCOUNT=1000"));
  const std::string own = environment_of_running_repro("GOMP_SPINCOUNT=77", "GOMP_SPINCOUNT=77");
  CHECK(has_entry(own, "GOMP_SPINCOUNT=77"));
  CHECK_FALSE(has_entry(own, "GOMP_SPINCOUNT=1000"));
}
