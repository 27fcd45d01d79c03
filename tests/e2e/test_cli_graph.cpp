// Layer graphs end to end on MNIST: configs/resnet_small.yaml's summary (Keras's Functional table
// with "Connected to"), the same bits at 1 and 2 threads and across resume, in determinism:
// portable on every ISA path this CPU runs; an ONNX export that ONNX Runtime runs to repro's
// predictions; and a Keras export as a Functional model (checked in test_cli_keras_export).
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

// A residual block and a concatenated side branch, no batch norm (so ranks can split it too).
const char* kGraph =
    "seed: 1\n"
    "data: {dataset: mnist, limit: 512, batch_size: 32, resize: [16, 16], shuffle_buffer: 0}\n"
    "model:\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu, name: stem}\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same, activation: relu}\n"
    "  - conv2d: {filters: 8, kernel_size: 3, padding: same}\n"
    "  - add: {inputs: [stem, conv2d_1]}\n"
    "  - activation: {activation: relu}\n"
    "  - maximum: {inputs: [activation, conv2d]}\n"
    "  - conv2d: {filters: 4, kernel_size: 1, strides: 2, inputs: [stem], name: side}\n"
    "  - max_pooling2d: {pool_size: 2, inputs: [maximum]}\n"
    "  - concatenate: {inputs: [max_pooling2d, side]}\n"
    "  - flatten: {}\n"
    "  - dense: {units: 10, activation: softmax}\n"
    "training: {epochs: 2, optimizer: adam, loss: sparse_categorical_crossentropy, "
    "metrics: [accuracy]}\n";

}  // namespace

TEST_CASE("configs/resnet_small.yaml prints as a Functional model with its connections") {
  const auto summary = run_repro("", "summary configs/resnet_small.yaml");
  INFO(summary.out << summary.err);
  REQUIRE(summary.exit_code == 0);
  CHECK(contains(summary.out, "Model: \"functional\""));
  CHECK(contains(summary.out, "Connected to"));
  CHECK(contains(summary.out, " input_layer (InputLayer)         (None, 28, 28, 1)         0"));
  CHECK(contains(summary.out,
                 " b2_proj (Conv2D)                 (None, 14, 14, 32)        512"
                 "       b1_out[0][0]"));
  CHECK(contains(summary.out,
                 " b2_add (Add)                     (None, 14, 14, 32)        0"
                 "         b2_bn2[0][0], b2_proj_bn[0][0]"));
  CHECK(contains(summary.out, "Total params: 78,426"));
}

TEST_CASE("a layer graph trains reproducibly: threads, resume, portable ISAs, ONNX Runtime") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_graph");
  std::ofstream(root / "graph.yaml") << kGraph;
  const std::string config = quoted(root / "graph.yaml");

  const auto resnet = run_repro(env,
                                "check configs/resnet_small.yaml --set data.dataset=mnist "
                                "--set data.limit=256 --steps 6 --vary threads=1,2 --out" +
                                    quoted(root / "check_resnet"));
  INFO(resnet.out << resnet.err);
  CHECK(resnet.exit_code == 0);
  CHECK(contains(resnet.out, "PASS: 2 runs bit-identical"));
  const auto portable = run_repro(env, "check" + config +
                                           " --set determinism=portable --steps 10 "
                                           "--vary isa=sse2,avx2 --out" +
                                           quoted(root / "check_isa"));
  INFO(portable.out << portable.err);
  CHECK(portable.exit_code == 0);
  CHECK(contains(portable.out, "PASS: 2 runs bit-identical"));

  REQUIRE(run_repro(env, "train" + config + " --quiet --out" + quoted(root / "a")).exit_code == 0);
  const std::string resume = config + " --quiet --set training.checkpoint=true";
  REQUIRE(run_repro(env, "train" + resume + " --epochs 1 --out" + quoted(root / "c")).exit_code ==
          0);
  REQUIRE(run_repro(env, "train" + resume + " --resume" + quoted(root / "c")).exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "c"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));

  const auto evaluated = run_repro(env, "evaluate" + quoted(root / "a"));
  CHECK(contains(evaluated.out, "run.json recorded the same test loss and accuracy, bit for bit"));
  const auto onnx = repro_test::run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh'" + quoted(root / "a"));
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "PASS"));
    CHECK_FALSE(contains(onnx.out, "Error merging shape info"));  // declared shapes are right
  }
  const auto keras = run_repro(
      "", "export" + quoted(root / "a") + " --format keras --out" + quoted(root / "m.keras"));
  INFO(keras.err);
  CHECK(keras.exit_code == 0);
  CHECK(contains(keras.out, "Keras .keras archive"));
  CHECK(contains(repro_test::slurp_file(root / "m.keras"), "\"class_name\":\"Functional\""));
  fs::remove_all(root);
}

TEST_CASE(
    "depthwise_conv2d and separable_conv2d in a residual graph: the same bits at 1 and 2 "
    "threads, an ONNX export that ONNX Runtime agrees with, and a Keras round trip") {
  const std::string env = repro_test::data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path root = repro_test::scratch_dir("cli_separable");
  std::ofstream(root / "sep.yaml")
      << "seed: 9\n"
         "data: {dataset: mnist, limit: 512, batch_size: 64, resize: [14, 14]}\n"
         "model:\n"
         "  - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu, name: stem}\n"
         "  - depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, padding: same, "
         "activation: relu}\n"
         "  - separable_conv2d: {filters: 4, kernel_size: 3, padding: same, name: mix}\n"
         "  - add: {inputs: [stem, mix]}\n"
         "  - separable_conv2d: {filters: 8, kernel_size: [3, 2], strides: 2, depth_multiplier: 3,"
         " use_bias: false, activation: silu}\n"
         "  - global_average_pooling2d: {}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1, optimizer: adam}\n";
  const fs::path one = root / "one", two = root / "two";
  for (const auto& [run, threads] : {std::pair{one, 1}, std::pair{two, 2}}) {
    const auto trained =
        run_repro(env, "train '" + (root / "sep.yaml").string() + "' --quiet --threads " +
                           std::to_string(threads) + " --out '" + run.string() + "'");
    INFO(trained.err);
    REQUIRE(trained.exit_code == 0);
  }
  CHECK(repro_test::slurp_file(one / "model.safetensors") ==
        repro_test::slurp_file(two / "model.safetensors"));
  const auto summary = run_repro("", "summary '" + (root / "sep.yaml").string() + "'");
  CHECK(summary.out.find("(None, 14, 14, 8)") != std::string::npos);  // 4 channels x 2
  const auto onnx = repro_test::run_check_script(env + " '" + std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh' '" + one.string() + "'");
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(onnx.out.find("PASS") != std::string::npos);
  }
  const fs::path keras_file = root / "sep.keras";
  const auto keras = run_repro(
      "", "export '" + one.string() + "' --format keras --out '" + keras_file.string() + "'");
  INFO(keras.err);
  REQUIRE(keras.exit_code == 0);
  const auto check = repro_test::run_check_script(
      "/usr/bin/python3 '" + std::string(REPRO_SOURCE_DIR) + "/scripts/keras_check.py' '" +
      one.string() + "' '" + keras_file.string() + "'");
  INFO(check.out);
  if (!check.skipped) CHECK(check.exit_code == 0);
  const auto imported = run_repro("", "import keras '" + keras_file.string() + "'");
  INFO(imported.err);
  CHECK(
      imported.out.find("depthwise_conv2d: {name: depthwise_conv2d, depth_multiplier: 2, "
                        "kernel_size: [3, 3], strides: [1, 1], padding: same, activation: relu") !=
      std::string::npos);
  CHECK(imported.out.find("separable_conv2d: {name: separable_conv2d, depth_multiplier: 3, "
                          "filters: 8, kernel_size: [3, 2], strides: [2, 2]") != std::string::npos);
  CHECK(imported.out.find("pointwise_initializer: {name: glorot_uniform") != std::string::npos);
  fs::remove_all(root);
}
