// Recurrent layers end to end on MNIST read row by row (configs/mnist_lstm.yaml, made small):
// dropout and recurrent_dropout give the same bits at 1 and 2 threads, on every portable ISA path
// and across resume mid-epoch; the Keras export round-trips; ONNX Runtime runs the ONNX export.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>

#include "export_checks.h"
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
    "portable ISA paths and across resume mid-epoch, Keras and ONNX exports") {
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

  const auto keras = repro_test::keras_round_trip(root / "a", root / "m.keras");
  CHECK(contains(keras.imported,
                 "lstm: {name: lstm, return_sequences: false, go_backwards: false, units: 16, "
                 "activation: tanh, recurrent_activation: sigmoid, use_bias: true"));
  CHECK(contains(keras.imported, "dropout: 0.2, recurrent_dropout: 0.2"));
  CHECK(contains(keras.imported, "reshape: {name: reshape, target_shape: [28, 28]}"));

  // The ONNX export (ONNX's LSTM op, gates reordered) in ONNX Runtime against repro predict.
  repro_test::check_onnx_runtime(env, root / "a");
  fs::remove_all(root);
}

TEST_CASE(
    "gru (reset_after both ways), a backwards lstm and simple_rnn with both dropouts: the same "
    "bits at 1 and 2 threads and for 1 and 2 workers, Keras and ONNX exports") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_gru");
  std::ofstream(root / "gru.yaml")
      << "seed: 3\ndata: {dataset: mnist, limit: 256, batch_size: 32, resize: [14, 14]}\n"
         "model:\n"
         "  - reshape: {target_shape: [14, 14]}\n"
         "  - gru: {units: 12, dropout: 0.1, recurrent_dropout: 0.2, return_sequences: true}\n"
         "  - gru: {units: 10, reset_after: false, recurrent_dropout: 0.1, go_backwards: true, "
         "return_sequences: true}\n"
         "  - lstm: {units: 9, go_backwards: true, return_sequences: true}\n"
         "  - simple_rnn: {units: 8, dropout: 0.2, recurrent_dropout: 0.2, activation: relu}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1, optimizer: adam}\n";
  const std::string config = quoted(root / "gru.yaml");
  for (const std::string vary : {"threads=1,2", "data.num_parallel_calls=1,2"}) {
    const auto r =
        run_repro(env, "check" + config + " --vary " + vary + " --out" + quoted(root / "check"));
    INFO(vary << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "PASS: 2 runs bit-identical"));
  }
  REQUIRE(run_repro(env, "train" + config + " --quiet --out" + quoted(root / "a")).exit_code == 0);
  const auto summary = run_repro("", "summary" + config);
  CHECK(contains(summary.out, "gru (GRU)                   (None, 14, 12)            1,008"));
  const auto keras = repro_test::keras_round_trip(root / "a", root / "g.keras");
  CHECK(contains(keras.imported, "dropout: 0.1, recurrent_dropout: 0.2, reset_after: true}"));
  CHECK(contains(keras.imported, "recurrent_dropout: 0.1, reset_after: false}"));
  CHECK(contains(keras.imported, "simple_rnn: {name: simple_rnn"));
  // Keras keeps a recurrent layer's variables in its cell's group; they read back as they were.
  const fs::path tuned = root / "from_keras";
  const auto from_keras =
      run_repro(env, "train" + config +
                         " --quiet --steps 1 --set "
                         "initial_weights=" +
                         quoted(root / "g.keras").substr(1) + " --out" + quoted(tuned));
  INFO(from_keras.err);
  REQUIRE(from_keras.exit_code == 0);
  CHECK(repro_test::run_json_field(tuned, "initial_weights_sha256") ==
        repro_test::run_json_field(root / "a", "weights_sha256"));
  // ONNX's GRU (linear_before_reset both ways), LSTM and RNN ops, go_backwards sequences flipped.
  repro_test::check_onnx_runtime(env, root / "a");
  fs::remove_all(root);
}

TEST_CASE(
    "permute on images and sequences: ONNX Runtime agrees with repro, and a Keras round "
    "trip") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_permute");
  std::ofstream(root / "permute.yaml")
      << "seed: 5\ndata: {dataset: mnist, limit: 256, batch_size: 32, resize: [12, 10]}\n"
         "model:\n"
         "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n"
         "  - permute: {dims: [2, 1, 3]}\n"
         "  - conv2d: {filters: 3, kernel_size: 3, activation: relu}\n"
         "  - reshape: {target_shape: [18, -1]}\n"
         "  - permute: {dims: [2, 1]}\n"
         "  - flatten: {}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1}\n";
  const std::string config = quoted(root / "permute.yaml");
  REQUIRE(run_repro(env, "train" + config + " --quiet --out" + quoted(root / "a")).exit_code == 0);
  const auto summary = run_repro("", "summary" + config);
  CHECK(contains(summary.out, "(None, 8, 10, 4)"));
  repro_test::check_onnx_runtime(env, root / "a");
  const auto keras = repro_test::keras_round_trip(root / "a", root / "p.keras");
  CHECK(contains(keras.imported, "permute: {name: permute, dims: [2, 1, 3]}"));
  CHECK(contains(keras.imported, "permute: {name: permute_1, dims: [2, 1]}"));
  fs::remove_all(root);
}

TEST_CASE(
    "bidirectional (every merge mode) and time_distributed: the same bits at 1 and 2 threads "
    "(on and portable) and across resume, Keras and ONNX exports") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_wrappers");
  std::ofstream(root / "wrappers.yaml")
      << "seed: 3\ndata: {dataset: mnist, limit: 320, batch_size: 36, resize: [14, 14]}\n"
         "model:\n"
         "  - reshape: {target_shape: [14, 14]}\n"
         "  - bidirectional: {layer: {lstm: {units: 12, dropout: 0.1, recurrent_dropout: 0.2, "
         "return_sequences: true}}}\n"
         "  - time_distributed: {layer: {dense: {units: 6, activation: relu}}}\n"
         "  - bidirectional: {merge_mode: ave, layer: {gru: {units: 8, return_sequences: true}}}\n"
         "  - bidirectional: {merge_mode: mul, layer: {simple_rnn: {units: 7, return_sequences: "
         "true}}}\n"
         "  - bidirectional: {merge_mode: sum, layer: {gru: {units: 9, reset_after: false}}}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1}\n";
  const std::string config = quoted(root / "wrappers.yaml");
  for (const std::string set : {"", " --set determinism=portable"}) {
    const auto r = run_repro(env, "check" + config + set + " --steps 6 --vary threads=1,2 --out" +
                                      quoted(root / "check"));
    INFO(set << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "PASS: 2 runs bit-identical"));
  }
  const auto summary = run_repro("", "summary" + config);
  CHECK(
      contains(summary.out, "bidirectional (Bidirectional)       (None, 14, 24)            2,592"));
  CHECK(contains(summary.out, "time_distributed (TimeDistributed)  (None, 14, 6)             150"));

  // Resume mid-epoch (5 of 9 steps) equals the uninterrupted run.
  const std::string run = "train" + config + " --quiet";
  REQUIRE(run_repro(env, run + " --out" + quoted(root / "a")).exit_code == 0);
  REQUIRE(run_repro(env,
                    run + " --set training.checkpoint.every=5 --steps 5 --out" + quoted(root / "b"))
              .exit_code == 0);
  REQUIRE(run_repro(env, "train --quiet --resume" + quoted(root / "b")).exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "b"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));

  // Keras: the copies' variables in forward_layer/cell and backward_layer/cell, the dense's in
  // time_distributed/layer; read back by import and by initial_weights.
  const auto keras = repro_test::keras_round_trip(root / "a", root / "w.keras");
  if (!keras.checked.empty())
    CHECK(
        contains(keras.checked, "layers/bidirectional (bidirectional): 6 tensors identical in 2"));
  CHECK(contains(keras.imported,
                 "bidirectional: {name: bidirectional, merge_mode: concat, layer: "
                 "{lstm: {name: forward_lstm"));
  CHECK(contains(keras.imported, "merge_mode: mul, layer: {simple_rnn: {name: forward_simple_rnn"));
  CHECK(contains(keras.imported,
                 "time_distributed: {name: time_distributed, layer: {dense: {name: "
                 "dense, units: 6, activation: relu"));
  const fs::path tuned = root / "from_keras";
  REQUIRE(run_repro(env, "train" + config + " --quiet --steps 1 --set initial_weights=" +
                             quoted(root / "w.keras").substr(1) + " --out" + quoted(tuned))
              .exit_code == 0);
  CHECK(repro_test::run_json_field(tuned, "initial_weights_sha256") ==
        repro_test::run_json_field(root / "a", "weights_sha256"));

  // ONNX: one bidirectional op per wrapper, merged over the direction axis; MatMul for the dense.
  repro_test::check_onnx_runtime(env, root / "a");
  fs::remove_all(root);
}
