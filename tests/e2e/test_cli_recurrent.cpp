// Recurrent layers end to end on MNIST read row by row (configs/mnist_lstm.yaml, made small):
// dropout and recurrent_dropout give the same bits at 1 and 2 threads, on every portable ISA path
// and across resume mid-epoch; the Keras export round-trips; ONNX names what it cannot export.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>

#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

// configs/mnist_lstm.yaml on 320 images with 16 units: a few seconds a run.
const std::string kSmall =
    " configs/mnist_lstm.yaml --set data.limit=320 --set data.batch_size=32"
    " --set model.1.lstm.units=16";

}  // namespace

TEST_CASE(
    "an lstm with dropout and recurrent_dropout: the same bits at 1 and 2 threads, on the "
    "portable ISA paths and across resume mid-epoch; a Keras round trip") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_recurrent");

  const auto threads = run_repro(
      env, "check" + kSmall + " --steps 8 --vary threads=1,2 --out" + quoted(root / "threads"));
  INFO(threads.out << threads.err);
  CHECK(threads.exit_code == 0);
  CHECK(contains(threads.out, "PASS: 2 runs bit-identical"));
  const auto isa = run_repro(env, "check" + kSmall +
                                      " --set determinism=portable --steps 4 --vary isa=sse2,avx2 "
                                      "--out" +
                                      quoted(root / "isa"));
  INFO(isa.out << isa.err);
  if (!contains(isa.err, "not run on this CPU")) {
    CHECK(isa.exit_code == 0);
    CHECK(contains(isa.out, "PASS: 2 runs bit-identical"));
  }

  // Resume mid-epoch: stop after 5 of 10 steps with a checkpoint, go on, compare.
  const std::string run = "train" + kSmall + " --quiet --set training.epochs=1";
  REQUIRE(run_repro(env, run + " --out" + quoted(root / "a")).exit_code == 0);
  REQUIRE(run_repro(env,
                    run + " --set training.checkpoint.every=5 --steps 5 --out" + quoted(root / "b"))
              .exit_code == 0);
  const auto resumed = run_repro(env, "train --quiet --resume" + quoted(root / "b"));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "b"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));

  const auto keras = run_repro(
      "", "export" + quoted(root / "a") + " --format keras --out" + quoted(root / "m.keras"));
  INFO(keras.err);
  REQUIRE(keras.exit_code == 0);
  const auto check = repro_test::run_check_script(
      "/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) + "/scripts/keras_check.py'" +
      quoted(root / "a") + quoted(root / "m.keras"));
  INFO(check.out);
  if (!check.skipped) CHECK(check.exit_code == 0);
  const auto imported = run_repro("", "import keras" + quoted(root / "m.keras"));
  INFO(imported.err);
  CHECK(contains(imported.out,
                 "lstm: {name: lstm, return_sequences: false, go_backwards: false, units: 16, "
                 "activation: tanh, recurrent_activation: sigmoid, use_bias: true"));
  CHECK(contains(imported.out, "dropout: 0.2, recurrent_dropout: 0.2"));
  CHECK(contains(imported.out, "reshape: {name: reshape, target_shape: [28, 28]}"));

  const auto onnx = run_repro(
      "", "export" + quoted(root / "a") + " --format onnx --out" + quoted(root / "m.onnx"));
  CHECK(onnx.exit_code == 2);
  CHECK(contains(onnx.err, "lstm (lstm)"));
  CHECK_FALSE(fs::exists(root / "m.onnx"));
  fs::remove_all(root);
}
