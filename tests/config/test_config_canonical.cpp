// flatten_config and to_yaml: every key with its default, one spelling per value, stable, and
// every flattened key a valid --set path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "config_test_helpers.h"

using namespace repro;

namespace {

std::map<std::string, std::string> as_map(const RunConfig& config) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : flatten_config(config)) out[key] = value;
  return out;
}

}  // namespace

TEST_CASE("flatten_config gives sorted keys with canonical values and every default") {
  const RunConfig config = load_config(test::recipe_path());
  const auto flat = flatten_config(config);
  REQUIRE(std::is_sorted(flat.begin(), flat.end()));
  const auto values = as_map(config);
  REQUIRE(values.size() == flat.size());  // no key twice
  REQUIRE(values.at("seed") == "812");
  REQUIRE(values.at("determinism") == "on");
  REQUIRE(values.at("data.batch_size") == "64");
  REQUIRE(values.at("data.resize") == "[32, 32]");
  REQUIRE(values.at("data.num_parallel_calls") == "auto");
  REQUIRE(values.at("data.limit") == "0");
  REQUIRE(values.at("model.0.conv2d.filters") == "32");
  REQUIRE(values.at("model.0.conv2d.kernel_size") == "[3, 3]");
  REQUIRE(values.at("model.0.conv2d.strides") == "[1, 1]");
  REQUIRE(values.at("model.0.conv2d.padding") == "valid");
  REQUIRE(values.at("model.0.conv2d.kernel_initializer.name") == "glorot_uniform");
  REQUIRE(values.at("model.0.conv2d.kernel_initializer.seed") == "null");
  REQUIRE(values.at("model.0.conv2d.bias_initializer.name") == "zeros");
  REQUIRE(values.at("model.1.max_pooling2d.strides") == "[2, 2]");
  REQUIRE(values.at("model.2.dropout.rate") == "0.2");
  REQUIRE(values.at("model.10.dense.name") == "dense_1");
  REQUIRE(values.at("training.optimizer.learning_rate") == "0.001");
  REQUIRE(values.at("training.optimizer.epsilon") == "1e-07");
  REQUIRE(values.at("training.metrics") == "[accuracy]");
  REQUIRE(values.at("training.checkpoint") == "off");
  REQUIRE(values.at("training.trace") == "off");
  REQUIRE(values.at("training.log.every") == "10");
  REQUIRE(values.count("data.train_images") == 0);  // only for dataset idx
}

TEST_CASE("the same config in another spelling flattens to the same pairs") {
  const RunConfig recipe = load_config(test::recipe_path());
  std::string text =
      "seed: 812\ndeterminism: true\ndata: {batch_size: 64, resize: [32, 32]}\n"
      "training:\n  epochs: 2\n  optimizer: Adam\n"
      "model:\n";
  for (int block = 0; block < 2; ++block) {
    text +=
        "  - conv2d: {filters: 32, kernel_size: [3, 3], strides: 1, activation: relu,\n"
        "              kernel_initializer: GlorotUniform, bias_initializer: {name: zeros}}\n"
        "  - max_pooling2d: {pool_size: [2, 2], strides: 2, padding: valid}\n"
        "  - dropout: {rate: 0.2}\n";
  }
  text +=
      "  - conv2d: {filters: 32, activation: relu}\n"
      "  - global_average_pooling2d:\n"
      "  - dense: {units: 64, activation: relu}\n"
      "  - dropout: {rate: 0.2}\n"
      "  - dense: {units: 10, activation: softmax}\n";
  const RunConfig respelled = parse_config(text, "respelled.yaml");
  REQUIRE(flatten_config(respelled) == flatten_config(recipe));
  REQUIRE(to_yaml(respelled) == to_yaml(recipe));
}

TEST_CASE("to_yaml parses back to the same config") {
  const std::string idx =
      "seed: 3\nrng: tf\ndeterminism: off\ndevice: cuda\nthreads: 2\n"
      "data:\n  dataset: idx\n  dir: \"my data\"\n  train_images: \"a: b.idx\"\n"
      "  train_labels: 'quote\"d'\n  test_images: t\n  test_labels: u\n  limit: 100\n"
      "  shuffle: false\n  shuffle_buffer: 10\n  reshuffle_each_iteration: false\n"
      "  num_parallel_calls: 3\n  prefetch: 1\n"
      "model:\n"
      "  - conv2d: {filters: 3, kernel_size: [3, 2], strides: [2, 1], padding: same,\n"
      "             use_bias: false, name: \"c #1\",\n"
      "             kernel_initializer: {name: variance_scaling, scale: 0.5, mode: fan_out,\n"
      "                                  distribution: uniform, seed: 9},\n"
      "             bias_initializer: {name: random_uniform, minval: -0.1, maxval: 0.3}}\n"
      "  - flatten:\n"
      "  - dense: {units: 7, kernel_initializer: {name: orthogonal, gain: 1.5},\n"
      "            bias_initializer: {name: truncated_normal, mean: 0.1, stddev: 0.2}}\n"
      "training:\n  epochs: 4\n"
      "  optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.9, nesterov: true}\n"
      "  metrics: []\n  validation: false\n"
      "  checkpoint: {every: 25, keep: 3}\n  trace: {every: 5}\n";
  const std::string callbacks =
      "seed: 1\nmodel:\n  - flatten: {}\n  - dense: {units: 10}\n"
      "training:\n  epochs: 9\n  optimizer: {name: adam, learning_rate: 0.01}\n"
      "  checkpoint: {every: epoch, best: {monitor: val_accuracy}}\n"
      "  early_stopping: {monitor: loss, mode: min, min_delta: 0.001, patience: 2,\n"
      "                   baseline: 0.5, restore_best_weights: true, start_from_epoch: 1}\n"
      "  reduce_lr_on_plateau: {factor: 0.5, patience: 1, cooldown: 2, min_lr: 0.0001}\n";
  const std::string npz =
      "seed: 1\ndata: {dataset: npz, path: \"my data.npz\", keys: {x_train: images}}\n"
      "initial_weights: runs/a/model.safetensors\nmodel:\n  - flatten: {}\n  - dense: {units: "
      "10}\n";
  for (const std::string& text : {idx, std::string(repro::test::kSmall), callbacks, npz}) {
    const RunConfig config = parse_config(text, "any.yaml");
    const std::string yaml = to_yaml(config);
    INFO(yaml);
    const RunConfig again = parse_config(yaml, "again.yaml");
    REQUIRE(flatten_config(again) == flatten_config(config));
  }
  const RunConfig config = parse_config(idx, "any.yaml");
  REQUIRE(config.model[0].name == "c #1");
  REQUIRE(config.data.train_labels == "quote\"d");
  const std::string yaml = to_yaml(config);
  REQUIRE(yaml.find("model:\n  - conv2d:\n      name: \"c #1\"\n      filters: 3\n") !=
          std::string::npos);
  REQUIRE(yaml.find("  checkpoint:\n    every: 25\n    keep: 3\n") != std::string::npos);
}

TEST_CASE("every flattened key is a --set path that leaves the config unchanged") {
  const RunConfig recipe = load_config(test::recipe_path());
  const auto flat = flatten_config(recipe);
  for (const auto& [key, value] : flat) {
    // Naming a layer takes it out of Keras's auto numbering, which renames the layers after it.
    if (key.rfind("model.", 0) == 0 && key.size() > 5 && key.substr(key.size() - 5) == ".name") {
      continue;
    }
    INFO(key << "=" << value);
    const RunConfig again = load_config(test::recipe_path(), {key + "=" + value});
    REQUIRE(flatten_config(again) == flat);
  }
}

TEST_CASE("snake_case follows Keras's naming.to_snake_case") {
  CHECK(repro::snake_case("Conv2D") == "conv2d");
  CHECK(repro::snake_case("MaxPooling2D") == "max_pooling2d");
  CHECK(repro::snake_case("GlobalAveragePooling2D") == "global_average_pooling2d");
  CHECK(repro::snake_case("BatchNormalization") == "batch_normalization");
  CHECK(repro::snake_case("GlorotUniform") == "glorot_uniform");
  CHECK(repro::snake_case("RMSprop") == "rm_sprop");
  CHECK(repro::snake_case("AdamW") == "adam_w");
  CHECK(repro::snake_case("SGD") == "sgd");
  CHECK(repro::snake_case("ExponentialDecay") == "exponential_decay");
  CHECK(repro::snake_case("he_normal") == "he_normal");
  CHECK(repro::snake_case("Random-Flip!") == "random_flip");
}
