// repro train end to end: the tiny config trained twice, or stopped after epoch 1 and resumed,
// gives run folders that `repro compare --exact` calls identical; the output is Keras's (one line
// per epoch in a pipe); --quiet prints nothing; bad input exits 2 before training.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include "run_cli.h"

#include <sys/wait.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

namespace fs = std::filesystem;

using Ran = repro_test::CliResult;

fs::path work_dir() { return repro_test::scratch_dir("test_cli_train"); }

Ran run_cli(const std::string& env, const std::string& args) {
  return repro_test::run_repro(env, args);
}

std::string data_root() { return repro_test::mnist_parent_dir(); }

}  // namespace

TEST_CASE("the tiny config trained twice gives runs that compare --exact calls identical",
          "[e2e][train]") {
  const std::string data = data_root();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path a = work_dir() / "A", b = work_dir() / "B";
  fs::remove_all(a);
  fs::remove_all(b);

  const Ran first = run_cli(env, "train configs/tiny.yaml --threads 2 --out '" + a.string() + "'");
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  // In a pipe: "Epoch 1/2", then one final bar line per epoch, then the test accuracy.
  const std::regex epoch_line(
      "Epoch 1/2\n16/16 (\u2501){20} \\d+s \\d+(ms|s|us)/step - accuracy: 0\\.\\d{4} - loss: "
      "\\d\\.\\d{4} - "
      "val_accuracy: 0\\.\\d{4} - val_loss: \\d\\.\\d{4}\nEpoch 2/2\n");
  CHECK(std::regex_search(first.out, epoch_line));
  CHECK(std::regex_search(first.out, std::regex("Model accuracy on test data: \\d+\\.\\d\\d%\n")));
  CHECK(first.out.find('\r') == std::string::npos);
  for (const char* file : {"history.json", "run.json", "model.safetensors"})
    CHECK(fs::exists(a / file));

  const Ran second =
      run_cli(env, "train configs/tiny.yaml --threads 2 --quiet --out '" + b.string() + "'");
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.empty());
  CHECK(repro_test::slurp_file(a / "history.json") == repro_test::slurp_file(b / "history.json"));

  const Ran compare = run_cli("", "compare --exact '" + a.string() + "' '" + b.string() + "'");
  INFO(compare.out << compare.err);
  CHECK(compare.exit_code == 0);

  // Stopped after epoch 1 (a checkpoint per epoch), then resumed: the same bits as A.
  const fs::path c = work_dir() / "C";
  fs::remove_all(c);
  const std::string resume_args =
      "train configs/tiny.yaml --threads 2 --quiet --set training.checkpoint=true ";
  REQUIRE(run_cli(env, resume_args + "--epochs 1 --out '" + c.string() + "'").exit_code == 0);
  const Ran resumed = run_cli(env, resume_args + "--resume '" + c.string() + "'");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(repro_test::slurp_file(a / "history.json") == repro_test::slurp_file(c / "history.json"));
  CHECK(run_cli("", "compare --exact '" + a.string() + "' '" + c.string() + "'").exit_code == 0);
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(c);
}

TEST_CASE("repro train refuses bad input with exit 2 before training", "[e2e][train]") {
  const fs::path out = work_dir() / "bad";
  fs::remove_all(out);
  const Ran missing = run_cli("", "train configs/no_such.yaml --out '" + out.string() + "'");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no_such.yaml") != std::string::npos);

  const Ran bad_key =
      run_cli("", "train configs/tiny.yaml --set training.epoch=3 --out '" + out.string() + "'");
  CHECK(bad_key.exit_code == 2);
  CHECK(!fs::exists(out / "run.json"));

  const fs::path file = work_dir() / "a_file";
  std::ofstream(file) << "x";
  const Ran bad_out = run_cli("", "train configs/tiny.yaml --out '" + file.string() + "'");
  CHECK(bad_out.exit_code == 2);
  CHECK(bad_out.err.find("--out") != std::string::npos);
}

TEST_CASE("repro train --seed N is --set seed=N, checked like it", "[e2e][train]") {
  const std::string data = data_root();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path a = work_dir() / "seed_flag", b = work_dir() / "seed_set";
  const std::string tiny = "train configs/tiny.yaml --quiet --epochs 1 ";
  REQUIRE(run_cli(env, tiny + "--seed 99 --out '" + a.string() + "'").exit_code == 0);
  REQUIRE(run_cli(env, tiny + "--set seed=99 --out '" + b.string() + "'").exit_code == 0);
  CHECK(repro_test::contains(repro_test::slurp_file(a / "run.json"), "\"seed\": 99"));
  CHECK(run_cli("", "compare --exact '" + a.string() + "' '" + b.string() + "'").exit_code == 0);
  const Ran bad = run_cli(env, tiny + "--seed -3 --out '" + (work_dir() / "x").string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK(repro_test::contains(bad.err, "--seed: must be an integer from 0 to"));
  fs::remove_all(a);
  fs::remove_all(b);
}
