// The Keras 3 export, on real MNIST runs: `repro export --format keras|weights.h5` writes the
// files Keras's saving_lib would, checked tensor by tensor by h5py (scripts/keras_check.py;
// skipped without python3-h5py), byte-identical when made again, read back by `repro import
// keras` to the run's config and by `initial_weights` to the run's weights; bad files are one
// line and exit 2. Layer graphs export as Functional models, their weights in Keras's layer
// order.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::mnist_parent_dir;
using repro_test::run_repro;
using repro_test::scratch_dir;
using repro_test::slurp_file;

namespace {

// Runs scripts/keras_check.py RUN FILE with Debian's python3; skips when it says it cannot run.
// Returns what it printed, "" when skipped.
std::string require_keras_check(const fs::path& run, const fs::path& file) {
  if (!fs::exists("/usr/bin/python3")) {
    std::cout << "REPRO_SKIPPED: no /usr/bin/python3 (python3-h5py checks the export)\n";
    return "";
  }
  const auto result = repro_test::run_check_script("/usr/bin/python3 scripts/keras_check.py '" +
                                                   run.string() + "' '" + file.string() + "'");
  if (result.skipped) return "";
  INFO(result.out);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "PASS: "));
  return result.out;
}

// The keys a Keras model carries: the layers, the optimizer, loss, metrics and the input size.
std::map<std::string, std::string> model_keys(const repro::RunConfig& config) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : repro::flatten_config(config))
    if (key.rfind("model.", 0) == 0 || key.rfind("training.optimizer", 0) == 0 ||
        key == "training.loss" || key == "training.metrics" || key == "data.resize")
      out[key] = value;
  return out;
}

std::string run_config_yaml(const fs::path& run) {
  return repro_test::run_json_field(run, "config_yaml");
}

}  // namespace

TEST_CASE("Keras export of a tiny run: h5py's reading, same bytes again, and the round trips") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "' SOURCE_DATE_EPOCH=1700000000";
  const fs::path dir = scratch_dir("keras_export_tiny");
  const fs::path run = dir / "run";
  REQUIRE(run_repro(env,
                    "train configs/tiny.yaml --quiet --set training.checkpoint.every=epoch "
                    "--set training.optimizer.learning_rate=0.0005 --out '" +
                        run.string() + "'")
              .exit_code == 0);

  const fs::path keras = dir / "model.keras", h5 = dir / "model.weights.h5";
  const auto exported =
      run_repro(env, "export '" + run.string() + "' --format keras --out '" + keras.string() + "'");
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(contains(exported.out, "optimizer state from checkpoint step 32 (iteration 32)"));
  REQUIRE(run_repro(env,
                    "export '" + run.string() + "' --format weights.h5 --out '" + h5.string() + "'")
              .exit_code == 0);
  require_keras_check(run, keras);
  require_keras_check(run, h5);

  // The same run exports the same bytes (no object times in the HDF5 file, fixed zip dates,
  // date_saved from SOURCE_DATE_EPOCH), a second later too.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const fs::path again = dir / "again.keras";
  REQUIRE(
      run_repro(env, "export '" + run.string() + "' --format keras --out '" + again.string() + "'")
          .exit_code == 0);
  CHECK(slurp_file(again) == slurp_file(keras));
  CHECK(contains(slurp_file(keras), "\"date_saved\":\"2023-11-14@22:13:20\""));

  // import keras reads the archive back to the run's model, optimizer and learning rate.
  const auto imported = run_repro(env, "import keras '" + keras.string() + "'");
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(contains(imported.out, "learning_rate: 5e-04"));  // 0.0005, not the default 0.001
  const repro::RunConfig original = repro::parse_config(run_config_yaml(run), "run.json");
  const repro::RunConfig back = repro::parse_config(imported.out, "imported");
  CHECK(model_keys(back) == model_keys(original));

  // initial_weights from either file starts a run from exactly the run's final weights.
  for (const fs::path& file : {keras, h5}) {
    const fs::path tuned = dir / ("from_" + file.filename().string());
    const auto result = run_repro(env,
                                  "train configs/tiny.yaml --quiet --epochs 1 --set "
                                  "initial_weights='" +
                                      file.string() + "' --out '" + tuned.string() + "'");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(repro_test::run_json_field(tuned, "initial_weights_sha256") ==
          repro_test::run_json_field(run, "weights_sha256"));
  }

  // Bad inputs: one line, exit 2, nothing written.
  const auto name = run_repro(env, "export '" + run.string() + "' --format keras --out '" +
                                       (dir / "model.zip").string() + "'");
  CHECK(name.exit_code == 2);
  CHECK(contains(name.err, "reads only files named *.keras"));
  CHECK(!fs::exists(dir / "model.zip"));
  std::string bytes = slurp_file(h5);
  std::ofstream(dir / "cut.weights.h5", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  std::ofstream(dir / "text.keras", std::ios::binary) << "not a zip";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"cut.weights.h5", "truncated HDF5 file"},
      {"text.keras", "not an HDF5 file"},
  };
  for (const auto& [file, message] : bad) {
    const fs::path out = dir / ("bad_" + file);
    const auto result =
        run_repro(env, "train configs/tiny.yaml --quiet --set initial_weights='" +
                           (dir / file).string() + "' --out '" + out.string() + "'");
    INFO(file);
    CHECK(result.exit_code == 2);
    CHECK(contains(result.err, message));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK(!fs::exists(out));
  }
  // Another model's weights: the layer and both shapes are named.
  const auto other = run_repro(env,
                               "train configs/tiny.yaml --quiet --set "
                               "model.0.conv2d.filters=4 --set initial_weights='" +
                                   h5.string() + "' --out '" + (dir / "other").string() + "'");
  CHECK(other.exit_code == 2);
  CHECK(contains(other.err,
                 "'layers/conv2d/vars/0' has shape (3, 3, 1, 8), the model's weight "
                 "there has (3, 3, 1, 4)"));
  fs::remove_all(dir);
}

TEST_CASE("Keras export of batch norm, augmentation, pooling and RMSprop with a schedule") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("keras_export_layers");
  const fs::path config = dir / "layers.yaml";
  std::ofstream(config) << R"(seed: 3
data: {dataset: mnist, limit: 256, batch_size: 64}
model:
  - random_flip: {mode: horizontal, seed: 5}
  - random_translation: {height_factor: 0.1, width_factor: [-0.05, 0.1]}
  - conv2d: {filters: 4, kernel_size: 3, padding: same,
             kernel_initializer: {name: he_normal, seed: 11}}
  - batch_normalization: {momentum: 0.9}
  - activation: {activation: relu}
  - average_pooling2d: {pool_size: 2}
  - conv2d: {filters: 6, kernel_size: [3, 2], strides: 2, use_bias: false}
  - batch_normalization: {center: false}
  - max_pooling2d: {pool_size: 2, strides: 1}
  - global_average_pooling2d: {}
  - dense: {units: 10, activation: softmax,
            kernel_initializer: {name: variance_scaling, scale: 2.0, mode: fan_out}}
training:
  epochs: 1
  optimizer:
    name: rmsprop
    momentum: 0.5
    centered: true
    learning_rate: {name: exponential_decay, initial_learning_rate: 0.002, decay_steps: 3,
                    decay_rate: 0.9}
  checkpoint: {every: 4}
)";
  const fs::path run = dir / "run";
  const auto trained =
      run_repro(env, "train '" + config.string() + "' --quiet --out '" + run.string() + "'");
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);
  const fs::path keras = dir / "m.keras";
  const auto exported =
      run_repro(env, "export '" + run.string() + "' --format keras --out '" + keras.string() + "'");
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(contains(exported.out, "optimizer state from checkpoint step 4 (iteration 4)"));
  require_keras_check(run, keras);

  const auto imported = run_repro(env, "import keras '" + keras.string() + "'");
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  const repro::RunConfig original = repro::parse_config(run_config_yaml(run), "run.json");
  const repro::RunConfig back = repro::parse_config(imported.out, "imported");
  CHECK(model_keys(back) == model_keys(original));

  const fs::path tuned = dir / "tuned";
  const auto result =
      run_repro(env, "train '" + config.string() + "' --quiet --set initial_weights='" +
                         keras.string() + "' --out '" + tuned.string() + "'");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(repro_test::run_json_field(tuned, "initial_weights_sha256") ==
        repro_test::run_json_field(run, "weights_sha256"));
  fs::remove_all(dir);
}

namespace {

// A residual block whose shortcut is the stem's output, which feeds two layers (fan-out).
const char* kResidual = R"(seed: 5
data: {dataset: mnist, limit: 256, batch_size: 64, resize: [16, 16]}
model:
  - conv2d: {filters: 4, kernel_size: 3, padding: same, name: stem}
  - batch_normalization: {name: stem_bn}
  - activation: {activation: relu, name: stem_out}
  - conv2d: {filters: 4, kernel_size: 3, padding: same, use_bias: false}
  - batch_normalization: {momentum: 0.9, name: branch_bn}
  - add: {inputs: [stem_out, branch_bn]}
  - activation: {activation: relu}
  - global_average_pooling2d: {}
  - dense: {units: 10, activation: softmax}
training:
  epochs: 1
  optimizer: {name: adam, learning_rate: 0.003}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  checkpoint: {every: 2}
)";

// Two branches from the input, concatenated. The config lists the short branch first; Keras
// orders model.layers deepest first (long1, then short), so long1's weights are layers/conv2d.
const char* kConcat = R"(seed: 2
data: {dataset: mnist, limit: 256, batch_size: 64}
model:
  - conv2d: {filters: 3, kernel_size: 1, strides: 2, name: short}
  - conv2d: {filters: 5, kernel_size: 3, padding: same, inputs: [input], name: long1}
  - max_pooling2d: {pool_size: 2, name: long2}
  - concatenate: {inputs: [short, long2]}
  - flatten: {}
  - dense: {units: 10, activation: softmax}
training:
  epochs: 1
  optimizer: {name: sgd, momentum: 0.9, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  checkpoint: {every: 2}
)";

}  // namespace

TEST_CASE("Keras export of layer graphs: Functional config, Keras's layer order, round trips") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("keras_export_graph");
  const std::vector<std::pair<std::string, const char*>> graphs = {{"residual", kResidual},
                                                                   {"concat", kConcat}};
  for (const auto& [name, yaml] : graphs) {
    INFO(name);
    const fs::path config = dir / (name + ".yaml");
    std::ofstream(config) << yaml;
    const fs::path run = dir / name;
    const auto trained =
        run_repro(env, "train '" + config.string() + "' --quiet --out '" + run.string() + "'");
    INFO(trained.err);
    REQUIRE(trained.exit_code == 0);

    const fs::path keras = dir / (name + ".keras"), h5 = dir / (name + ".weights.h5");
    const auto exported = run_repro(
        env, "export '" + run.string() + "' --format keras --out '" + keras.string() + "'");
    INFO(exported.err);
    REQUIRE(exported.exit_code == 0);
    CHECK(contains(exported.out, "optimizer state from checkpoint step 4 (iteration 4)"));
    REQUIRE(run_repro(env, "export '" + run.string() + "' --format weights.h5 --out '" +
                               h5.string() + "'")
                .exit_code == 0);

    // config.json: a Functional model whose layers carry their calls.
    const std::string archive = slurp_file(keras);
    CHECK(contains(archive,
                   "{\"module\":\"keras.src.models.functional\",\"class_name\":"
                   "\"Functional\",\"config\":{\"name\":\"functional\""));
    CHECK(contains(archive,
                   "\"registered_name\":\"Functional\",\"build_config\":{"
                   "\"input_shape\":null}"));
    CHECK(contains(archive,
                   "\"input_layers\":[\"input_layer\",0,0],\"output_layers\":["
                   "\"dense\",0,0]"));
    const std::string checked = require_keras_check(run, keras);
    require_keras_check(run, h5);
    if (name == "residual") {
      // The merge takes a list of two tensors; stem_out's output feeds conv2d and the add.
      CHECK(contains(archive,
                     "\"name\":\"add\",\"inbound_nodes\":[{\"args\":[[{\"class_name\":"
                     "\"__keras_tensor__\",\"config\":{\"shape\":[null,16,16,4],\"dtype\":"
                     "\"float32\",\"keras_history\":[\"stem_out\",0,0]}},{\"class_name\":"
                     "\"__keras_tensor__\",\"config\":{\"shape\":[null,16,16,4],\"dtype\":"
                     "\"float32\",\"keras_history\":[\"branch_bn\",0,0]}}]],\"kwargs\":{}}]"));
      CHECK(contains(archive,
                     "\"build_config\":{\"input_shape\":[[null,16,16,4],[null,16,16,"
                     "4]]},\"name\":\"add\""));
      if (!checked.empty()) {
        CHECK(contains(checked, "layers/conv2d (stem): 2 tensors identical"));
        CHECK(contains(checked, "layers/conv2d_1 (conv2d): 1 tensors identical"));
        CHECK(contains(checked, "layers/batch_normalization_1 (branch_bn): 4 tensors"));
        CHECK(contains(checked, "layers/input_layer (input_layer): 0 tensors identical"));
      }
    } else if (!checked.empty()) {
      CHECK(contains(checked, "layers/conv2d (long1): 2 tensors identical"));
      CHECK(contains(checked, "layers/conv2d_1 (short): 2 tensors identical"));
    }

    // import keras gives back the run's config, key by key.
    const auto imported = run_repro(env, "import keras '" + keras.string() + "'");
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    const repro::RunConfig original = repro::parse_config(run_config_yaml(run), "run.json");
    const repro::RunConfig back = repro::parse_config(imported.out, "imported");
    CHECK(model_keys(back) == model_keys(original));

    // initial_weights from the archive starts a run from exactly the run's final weights.
    const fs::path tuned = dir / (name + "_tuned");
    const auto result =
        run_repro(env, "train '" + config.string() + "' --quiet --set initial_weights='" +
                           keras.string() + "' --out '" + tuned.string() + "'");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(repro_test::run_json_field(tuned, "initial_weights_sha256") ==
          repro_test::run_json_field(run, "weights_sha256"));
  }
  fs::remove_all(dir);
}
