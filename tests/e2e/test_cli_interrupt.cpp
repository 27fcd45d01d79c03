// SIGINT during `repro train`: the step finishes, a checkpoint is written, the exit code is 130,
// and `--resume` completes a run folder bit-identical to the run that was never interrupted.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "run_cli.h"

using repro_test::mnist_parent_dir;
using repro_test::run_repro;
using repro_test::scratch_dir;

namespace {

// Starts `repro ARGS` (the shell execs it, so the pid is repro's), waits `delay`, sends SIGINT and
// returns the exit status as waitpid reports it.
int train_and_interrupt(const std::string& env, const std::string& args,
                        std::chrono::milliseconds delay, const std::string& log) {
  const std::string command = "cd '" + std::string(REPRO_SOURCE_DIR) + "' && " + env + " exec '" +
                              REPRO_EXE + "' " + args + " >'" + log + "' 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("SIGINT writes a checkpoint and exits 130, and --resume matches the uninterrupted run") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    WARN("skipped: no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
    return;
  }
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const auto dir = scratch_dir("interrupt");
  const std::string config =
      "configs/tiny.yaml --set data.limit=4096 --set training.validation=false --epochs 3 --quiet";
  const std::string reference = (dir / "reference").string();
  const std::string run = (dir / "run").string();

  auto uninterrupted = run_repro(env, "train " + config + " --out '" + reference + "'");
  REQUIRE(uninterrupted.exit_code == 0);

  // The signal must land while training runs: after the data is loaded, before the end. Adjust
  // the delay when it lands too early (killed before the handler) or too late (finished).
  std::chrono::milliseconds delay(1500);
  bool interrupted = false;
  for (int attempt = 0; attempt < 6 && !interrupted; ++attempt) {
    std::filesystem::remove_all(run);
    const std::string log = (dir / "log").string();
    const int status = train_and_interrupt(env, "train " + config + " --out '" + run + "'", delay, log);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 130) {
      interrupted = true;
      const std::string text = repro_test::slurp_file(log);
      INFO(text);
      REQUIRE(text.find("resume with: repro train") != std::string::npos);
      REQUIRE(std::filesystem::exists(std::filesystem::path(run) / "checkpoints"));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      delay /= 2;  // finished before the signal
    } else {
      delay *= 2;  // the signal came before the handler was installed
    }
  }
  REQUIRE(interrupted);

  auto resumed = run_repro(env, "train " + config + " --resume '" + run + "'");
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto compared = run_repro("", "compare --exact '" + reference + "' '" + run + "'");
  INFO(compared.out << compared.err);
  REQUIRE(compared.exit_code == 0);
  std::filesystem::remove_all(dir);
}
