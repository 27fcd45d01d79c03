// The activations beyond relu, sigmoid and tanh (elu, leaky_relu, softplus, hard_sigmoid) and the
// layers zero_padding2d, global_max_pooling2d and reshape end to end: they train, export to ONNX
// (Elu, LeakyRelu, Softplus, HardSigmoid) that ONNX Runtime runs to repro's predictions, and to
// Keras (scripts/keras_check.py) with their Keras names.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>

#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

TEST_CASE(
    "elu, leaky_relu, softplus, hard_sigmoid, zero_padding2d and global_max_pooling2d export") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_activations");
  std::ofstream(root / "act.yaml")
      << "seed: 4\n"
         "data: {dataset: mnist, limit: 512, batch_size: 32, resize: [14, 14]}\n"
         "model:\n"
         "  - zero_padding2d: {padding: [[1, 2], [0, 1]]}\n"
         "  - conv2d: {filters: 6, kernel_size: 3, activation: elu}\n"
         "  - activation: {activation: leaky_relu}\n"
         "  - conv2d: {filters: 6, kernel_size: 3, strides: 2, activation: softplus}\n"
         "  - global_max_pooling2d: {}\n"
         "  - dense: {units: 16, activation: hard_sigmoid}\n"
         "  - reshape: {target_shape: [4, -1, 2]}\n"
         "  - conv2d: {filters: 3, kernel_size: 2}\n"
         "  - reshape: {target_shape: [-1]}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1, optimizer: adam, loss: sparse_categorical_crossentropy, "
         "metrics: [accuracy]}\n";
  const fs::path run = root / "run";
  const auto trained = run_repro(
      env, "train '" + (root / "act.yaml").string() + "' --quiet --out '" + run.string() + "'");
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);
  const auto onnx = repro_test::run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh' '" + run.string() + "'");
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "PASS"));
    CHECK_FALSE(contains(onnx.out, "Error merging shape info"));  // declared shapes are right
  }
  const auto keras = run_repro("", "export '" + run.string() + "' --format keras --out '" +
                                       (root / "m.keras").string() + "'");
  REQUIRE(keras.exit_code == 0);
  const auto check = repro_test::run_check_script(
      "/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) + "/scripts/keras_check.py' '" +
      run.string() + "' '" + (root / "m.keras").string() + "'");
  INFO(check.out);
  if (!check.skipped) CHECK(check.exit_code == 0);
  const auto imported = run_repro("", "import keras '" + (root / "m.keras").string() + "'");
  CHECK(contains(imported.out, "activation: leaky_relu"));
  CHECK(contains(imported.out, "activation: hard_sigmoid"));
  CHECK(contains(imported.out, "padding: [[1, 2], [0, 1]]"));
  CHECK(contains(imported.out, "global_max_pooling2d"));
  CHECK(contains(imported.out, "target_shape: [4, -1, 2]"));
  fs::remove_all(root);
}

TEST_CASE(
    "gelu (both forms) and silu train, export to ONNX that ONNX Runtime agrees with, and "
    "round-trip through Keras by their Keras names") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_gelu_silu");
  const std::string head =
      "seed: 5\n"
      "data: {dataset: mnist, limit: 512, batch_size: 32, resize: [12, 12]}\n"
      "model:\n"
      "  - conv2d: {filters: 6, kernel_size: 3, activation: gelu}\n"
      "  - activation: {activation: swish}\n"
      "  - conv2d: {filters: 6, kernel_size: 3, strides: 2, activation: ";
  const std::string tail =
      "}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 16, activation: silu}\n"
      "  - dense: {units: 10, activation: softmax}\n"
      "training: {epochs: 1, optimizer: adam}\n";
  for (const std::string form : {"gelu_approximate", "gelu"}) {
    const fs::path config = root / (form + ".yaml"), run = root / form;
    std::ofstream(config) << head << form << tail;
    const auto trained =
        run_repro(env, "train '" + config.string() + "' --quiet --out '" + run.string() + "'");
    INFO(trained.err);
    REQUIRE(trained.exit_code == 0);
    const auto onnx =
        repro_test::run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                     "/scripts/onnx_check.sh' '" + run.string() + "'");
    INFO(onnx.out);
    if (!onnx.skipped) {
      CHECK(onnx.exit_code == 0);
      CHECK(contains(onnx.out, "PASS"));
    }
    const fs::path keras_file = root / (form + ".keras");
    const auto keras = run_repro(
        "", "export '" + run.string() + "' --format keras --out '" + keras_file.string() + "'");
    if (form == "gelu_approximate") {
      // Keras has no string for gelu(x, approximate=True): refused by name, nothing written.
      CHECK(keras.exit_code == 2);
      CHECK(contains(keras.err, "activation gelu_approximate has no name in a Keras config"));
      CHECK_FALSE(fs::exists(keras_file));
      continue;
    }
    REQUIRE(keras.exit_code == 0);
    const auto check = repro_test::run_check_script(
        "/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) + "/scripts/keras_check.py' '" +
        run.string() + "' '" + keras_file.string() + "'");
    INFO(check.out);
    if (!check.skipped) CHECK(check.exit_code == 0);
    const auto imported = run_repro("", "import keras '" + keras_file.string() + "'");
    CHECK(contains(imported.out, "activation: gelu"));
    CHECK(contains(imported.out, "activation: silu"));  // swish is saved by its other name
  }
  fs::remove_all(root);
}

TEST_CASE(
    "layer_normalization trains the same bits at 1 and 2 threads, exports to ONNX that ONNX "
    "Runtime agrees with, and round-trips through Keras") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_layer_norm");
  std::ofstream(root / "ln.yaml")
      << "seed: 6\n"
         "data: {dataset: mnist, limit: 512, batch_size: 60, resize: [12, 12]}\n"
         "model:\n"
         "  - conv2d: {filters: 8, kernel_size: 3, activation: linear}\n"
         "  - layer_normalization: {epsilon: 0.0001}\n"
         "  - activation: {activation: gelu}\n"
         "  - conv2d: {filters: 8, kernel_size: 3, strides: 2, activation: relu}\n"
         "  - flatten: {}\n"
         "  - dense: {units: 16, activation: relu}\n"
         "  - layer_normalization: {center: false}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1, optimizer: adam}\n";
  const fs::path one = root / "one", two = root / "two";
  for (const auto& [run, threads] : {std::pair{one, 1}, std::pair{two, 2}}) {
    const auto trained =
        run_repro(env, "train '" + (root / "ln.yaml").string() + "' --quiet --threads " +
                           std::to_string(threads) + " --out '" + run.string() + "'");
    INFO(trained.err);
    REQUIRE(trained.exit_code == 0);
  }
  const auto same = run_repro("", "compare '" + one.string() + "' '" + two.string() + "'");
  INFO(same.out << same.err);
  CHECK(same.exit_code == 0);
  CHECK(repro_test::slurp_file(one / "model.safetensors") ==
        repro_test::slurp_file(two / "model.safetensors"));
  const auto onnx = repro_test::run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh' '" + one.string() + "'");
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "PASS"));
  }
  const fs::path keras_file = root / "ln.keras";
  const auto keras = run_repro(
      "", "export '" + one.string() + "' --format keras --out '" + keras_file.string() + "'");
  REQUIRE(keras.exit_code == 0);
  const auto check = repro_test::run_check_script(
      "/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) + "/scripts/keras_check.py' '" +
      one.string() + "' '" + keras_file.string() + "'");
  INFO(check.out);
  if (!check.skipped) CHECK(check.exit_code == 0);
  const auto imported = run_repro("", "import keras '" + keras_file.string() + "'");
  INFO(imported.err);
  CHECK(contains(imported.out,
                 "layer_normalization: {name: layer_normalization, axis: -1, "
                 "epsilon: 1e-04"));
  CHECK(contains(imported.out, "center: false"));
  fs::remove_all(root);
}
