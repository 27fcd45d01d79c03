// SIGINT during `repro train`: the step finishes, a checkpoint and a run folder of the finished
// epochs are written, the exit code is 130, and the printed resume command, pasted, completes a
// run folder bit-identical to the run that was never interrupted.
#include <catch2/catch.hpp>

#include "support/skip.h"

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

// Starts `repro ARGS` (the shell execs it, so the pid is repro's), sends SIGINT as soon as the
// log shows `marker` (printed and flushed when an epoch begins), and returns the wait status.
int train_and_interrupt(const std::string& env, const std::string& args, const std::string& marker,
                        const std::string& log) {
  const std::string command = "cd '" + std::string(REPRO_SOURCE_DIR) + "' && " + env + " exec '" +
                              REPRO_EXE + "' " + args + " >'" + log + "' 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  for (int waited_ms = 0; waited_ms < 120000; waited_ms += 2) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;  // ended before the marker
    if (repro_test::slurp_file(log).find(marker) != std::string::npos) {
      kill(pid, SIGINT);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("SIGINT writes a checkpoint and exits 130, and --resume matches the uninterrupted run") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const auto dir = scratch_dir("interrupt");
  const std::string train_args =
      "configs/tiny.yaml --set data.limit=4096 --set training.validation=false --epochs 4";
  const std::string reference = (dir / "reference").string();
  const std::string run = (dir / "run").string();

  auto uninterrupted = run_repro(env, "train " + train_args + " --quiet --out '" + reference + "'");
  REQUIRE(uninterrupted.exit_code == 0);

  // Interrupt when epoch 2 begins: training is under way and far from its end.
  const std::string log = (dir / "log").string();
  const int status =
      train_and_interrupt(env, "train " + train_args + " --out '" + run + "'", "Epoch 2/", log);
  const std::string text = repro_test::slurp_file(log);
  INFO(text);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 130);
  REQUIRE(std::filesystem::exists(std::filesystem::path(run) / "checkpoints"));

  // The interrupted run is a run folder too: its finished epoch, where it stopped, no test.
  REQUIRE(text.find("history.json holds 1 finished epoch(s)") != std::string::npos);
  const std::string record = repro_test::slurp_file(std::filesystem::path(run) / "run.json");
  CHECK(record.find("\"reason\": \"signal\"") != std::string::npos);
  CHECK(record.find("\"test_accuracy\": null") != std::string::npos);
  auto partial =
      run_repro("", "report '" + run + "' --out '" + (dir / "partial.html").string() + "' --quiet");
  INFO(partial.err);
  CHECK(partial.exit_code == 0);

  // The printed command, pasted as it is (the --set overrides travel in the checkpoint).
  const std::string prefix = "resume with: repro ";
  const size_t at = text.find(prefix);
  REQUIRE(at != std::string::npos);
  const std::string pasted =
      text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size());
  CHECK(pasted.find("--set") == std::string::npos);
  auto resumed = run_repro(env, pasted + " --quiet");
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto compared = run_repro("", "compare --exact '" + reference + "' '" + run + "'");
  INFO(compared.out << compared.err);
  REQUIRE(compared.exit_code == 0);
  std::filesystem::remove_all(dir);
}
