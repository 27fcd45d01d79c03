// Each invalid config gives its own message at the exact file:line:col of the offending text.
#include <catch2/catch.hpp>

#include "config_test_helpers.h"

using Catch::Matchers::StartsWith;
using repro::test::config_error;

namespace {

// A valid model tail for cases about other keys.
const std::string kModel = "model:\n  - flatten: {}\n  - dense: {units: 10}\n";

}  // namespace

TEST_CASE("an unknown key is named with the valid keys") {
  REQUIRE(config_error("seed: 1\nepoch: 2\n" + kModel) ==
          "bad.yaml:2:1: unknown key `epoch` in the config; valid keys: seed, rng, determinism, "
          "device, threads, initial_weights, data, model, training");
  REQUIRE(
      config_error("model:\n  - conv2d: {filter: 4}\n  - flatten: {}\n  - dense: {units: 10}\n") ==
      "bad.yaml:2:14: unknown key `filter` in model.0.conv2d; valid keys: filters, "
      "kernel_size, strides, padding, activation, use_bias, kernel_initializer, "
      "bias_initializer, name, inputs");
  REQUIRE(config_error(kModel + "training:\n  optimizer: {name: sgd, beta_1: 0.9}\n") ==
          "bad.yaml:5:26: unknown key `beta_1` in training.optimizer (sgd); valid keys: name, "
          "learning_rate, momentum, nesterov");
  REQUIRE(
      config_error("model:\n  - flatten: {}\n"
                   "  - dense: {units: 10, kernel_initializer: {name: he_normal, stddev: 2}}\n") ==
      "bad.yaml:3:62: unknown key `stddev` in model.1.dense.kernel_initializer (he_normal); "
      "valid keys: name, seed");
  REQUIRE(config_error("model:\n  - conv3d: {filters: 2}\n") ==
          "bad.yaml:2:5: unknown layer `conv3d` in model.0; valid layers: conv2d, "
          "depthwise_conv2d, separable_conv2d, simple_rnn, lstm, gru, max_pooling2d, "
          "average_pooling2d, activation, random_flip, random_translation, random_zoom, "
          "batch_normalization, layer_normalization, dropout, global_average_pooling2d, "
          "global_max_pooling2d, "
          "zero_padding2d, reshape, permute, embedding, bidirectional, time_distributed, flatten, "
          "dense, add, subtract, multiply, average, maximum, minimum, concatenate");
}

TEST_CASE("a wrong type names the key and what it got") {
  REQUIRE(config_error("data:\n  batch_size: abc\n" + kModel) ==
          "bad.yaml:2:15: data.batch_size must be an integer from 1 to 65536 (got `abc`)");
  REQUIRE(config_error("model:\n  - flatten: {}\n  - dense: {units: \"10\"}\n") ==
          "bad.yaml:3:20: model.1.dense.units must be an integer from 1 to 1000000 (got the string "
          "\"10\")");
  REQUIRE(config_error("data:\n  resize: [32]\n" + kModel) ==
          "bad.yaml:2:11: data.resize must be an integer or [h, w] (got a list)");
  REQUIRE(config_error("data:\n  shuffle: maybe\n" + kModel) ==
          "bad.yaml:2:12: data.shuffle must be true or false (also on/off; got `maybe`)");
  REQUIRE(config_error("- seed\n- data\n") ==
          "bad.yaml:1:1: a config is a map of keys (seed:, data:, model:, training:), not a list "
          "or a single value");
}

TEST_CASE("impossible values are errors at their place") {
  REQUIRE_THAT(
      config_error("model:\n  - flatten: {}\n  - dropout: {rate: 1.0}\n  - dense: {units: 10}\n"),
      StartsWith("bad.yaml:3:21: model.1.dropout.rate must be in [0, 1) (got 1)"));
  REQUIRE(
      config_error("model:\n  - conv2d: {filters: 0}\n  - flatten: {}\n  - dense: {units: 10}\n") ==
      "bad.yaml:2:23: model.0.conv2d.filters must be an integer from 1 to 1000000 (got `0`)");
  REQUIRE(config_error(kModel + "training:\n  epochs: -1\n") ==
          "bad.yaml:5:11: training.epochs must be an integer from 1 to 1000000 (got `-1`)");
  REQUIRE(config_error("data:\n  limit: -5\n" + kModel) ==
          "bad.yaml:2:10: data.limit must be an integer from 0 to 1000000000 (got `-5`)");
  REQUIRE(config_error("data:\n  batch_size: 0\n" + kModel) ==
          "bad.yaml:2:15: data.batch_size must be an integer from 1 to 65536 (got `0`)");
  REQUIRE(config_error("data:\n  dataset: cifar100\n" + kModel) ==
          "bad.yaml:2:12: data.dataset must be mnist, fashion_mnist, cifar10, idx, npz, "
          "image_folder or csv (got `cifar100`)");
  REQUIRE(config_error("data:\n  dataset: csv\n  path: t.csv\n" + kModel) ==
          "bad.yaml:2:12: data.dataset is csv, so data.label must name the label column (add "
          "data.label: COLUMN)");
  REQUIRE(config_error("data:\n  label: y\n" + kModel) ==
          "bad.yaml:2:10: data.label is only read with dataset: csv; remove it or set dataset: "
          "csv");
  REQUIRE(config_error("data:\n  dataset: image_folder\n" + kModel) ==
          "bad.yaml:2:12: data.dataset is image_folder, so data.directory must name the folder of "
          "class folders (add data.directory: path/to/folder)");
  REQUIRE(config_error("data:\n  dataset: image_folder\n  directory: d\n  color_mode: rgba\n" +
                       kModel) ==
          "bad.yaml:4:15: data.color_mode must be grayscale or rgb (got `rgba`)");
  REQUIRE(
      config_error("data:\n  dataset: image_folder\n  directory: d\n  resize: [8, 8]\n" + kModel) ==
      "bad.yaml:4:11: data.resize does not apply to image_folder, which resizes every image to "
      "data.image_size; remove it");
  REQUIRE(config_error("data:\n  image_size: [8, 8]\n" + kModel) ==
          "bad.yaml:2:15: data.image_size is only read with dataset: image_folder; remove it or "
          "set dataset: image_folder");
  REQUIRE(config_error("data:\n  dataset: cifar10\n  channels: 1\n" + kModel) ==
          "bad.yaml:3:13: data.channels is fixed by dataset cifar10 (3, RGB); remove it");
  REQUIRE(config_error("data:\n  channels: 0\n" + kModel) ==
          "bad.yaml:2:13: data.channels must be an integer from 1 to 512 (got `0`)");
  REQUIRE(config_error("data:\n  validation_split: 1\n" + kModel) ==
          "bad.yaml:2:21: data.validation_split must be in [0, 1): the fraction of the training "
          "images held out for validation (got 1)");
  REQUIRE(config_error("data:\n  validation_split: 0.2\n" + kModel +
                       "training:\n  validation: test\n") ==
          "bad.yaml:2:21: data.validation_split holds images out for validation, but "
          "training.validation: test validates on the test split; remove one of them");
  REQUIRE(config_error("data:\n  dataset: idx\n  train_images: a\n  train_labels: b\n"
                       "  test_labels: c\n" +
                       kModel) ==
          "bad.yaml:2:12: data.dataset is idx, so data.test_images must name its IDX file (add "
          "data.test_images: path/to/file)");
  REQUIRE(config_error("data:\n  dataset: idx\n  train_images: a\n" + kModel) ==
          "bad.yaml:2:12: data.dataset is idx, so data.train_labels must name its IDX file (add "
          "data.train_labels: path/to/file)");
  REQUIRE(config_error("model:\n  - flatten: {}\n  - dense: {activation: relu}\n") ==
          "bad.yaml:3:12: model.1.dense.units is missing; add units: N (the number of outputs)");
  REQUIRE_THAT(
      config_error("model:\n  - flatten: {}\n  - dense: {units: 10, kernel_initializer: xavier}\n"),
      StartsWith("bad.yaml:3:44: unknown initializer `xavier` in "
                 "model.1.dense.kernel_initializer; valid names: random_normal, "));
  REQUIRE(
      config_error(
          "model:\n  - flatten: {}\n  - dropout: {rate: 0.1, seed: 3}\n  - dense: {units: 10}\n") ==
      "bad.yaml:3:26: model.1.dropout.seed: dropout takes no seed here; its masks come from "
      "the run's `seed`, so remove it");
  REQUIRE(config_error("model:\n  - flatten: {name: a}\n  - dense: {units: 10, name: a}\n") ==
          "bad.yaml:3:30: layer name `a` is used by layers 0 and 1; names must be unique, so "
          "rename one of them (name: ...)");
}

TEST_CASE("the model must fit its input") {
  REQUIRE(config_error("data:\n  resize: [4, 4]\n"
                       "model:\n  - conv2d: {filters: 2, kernel_size: 5}\n  - flatten: {}\n"
                       "  - dense: {units: 10}\n") ==
          "bad.yaml:4:39: layer 0 (conv2d `conv2d`) has kernel_size [5, 5], larger than its "
          "input (4, 4, 1); use a smaller one, padding: same, or a larger data.resize");
  REQUIRE(config_error("model:\n  - max_pooling2d: {pool_size: [2, 30]}\n  - flatten: {}\n"
                       "  - dense: {units: 10}\n") ==
          "bad.yaml:2:32: layer 0 (max_pooling2d `max_pooling2d`) has pool_size [2, 30], larger "
          "than its input (28, 28, 1); use a smaller one, padding: same, or a larger data.resize");
  REQUIRE(config_error("model:\n  - conv2d: {filters: 2}\n  - dense: {units: 10}\n") ==
          "bad.yaml:3:5: layer 1 (dense `dense`) gets the 3-D input (26, 26, 2); add `- flatten: "
          "{}` or `- global_average_pooling2d: {}` before it");
  REQUIRE(
      config_error("model:\n  - flatten: {}\n  - conv2d: {filters: 2}\n  - dense: {units: 10}\n") ==
      "bad.yaml:3:5: layer 1 (conv2d `conv2d`) needs an image input (H, W, C) but gets (784) "
      "after flatten or global pooling; move it before them");
  REQUIRE_THAT(config_error("model:\n  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n"
                            "  - dense: {units: 10}\n"),
               StartsWith("bad.yaml:3:36: layer 1 (dense `dense`): softmax is only allowed on the "
                          "last layer"));
  REQUIRE(config_error("model:\n  - flatten: {}\n  - dense: {units: 5}\n") ==
          "bad.yaml:3:20: layer 1 (dense `dense`) gives 5 outputs but mnist has 10 classes; give "
          "the last layer units: 10");
  REQUIRE_THAT(config_error("seed: 1\n"),
               StartsWith("bad.yaml: the model has no layers; add model:"));
}

TEST_CASE("malformed YAML, duplicate keys and an empty file are errors with their place") {
  REQUIRE_THAT(config_error("seed: 1\nmodel: [a, b\ntraining: {}\n"),
               StartsWith("bad.yaml:3:9: not valid YAML: "));
  REQUIRE(config_error("seed: 1\nseed: 2\n" + kModel) ==
          "bad.yaml:2:1: duplicate key `seed` (first at line 1); remove one of them");
  REQUIRE(config_error("") ==
          "bad.yaml: the config is empty; start from configs/mnist_recipe.yaml");
}

TEST_CASE("a missing config file is an input error naming it") {
  REQUIRE_THROWS_AS(repro::load_config("/nonexistent/run.yaml"), repro::InputError);
}

TEST_CASE("every integer states its range, and a number past 64 bits is an error, never a wrap") {
  REQUIRE(config_error(kModel, {"training.epochs=99999999999999999999999"}) ==
          "--set training.epochs=99999999999999999999999: training.epochs must be an integer from "
          "1 to 1000000 (got `99999999999999999999999`, past the 64-bit integer range)");
  REQUIRE(config_error("seed: 18446744073709551616\n" + kModel) ==
          "bad.yaml:1:7: seed must be an integer from 0 to 9223372036854775807 (got "
          "`18446744073709551616`, past the 64-bit integer range)");
  REQUIRE(config_error("seed: -1\n" + kModel) ==
          "bad.yaml:1:7: seed must be an integer from 0 to 9223372036854775807 (got `-1`)");
  REQUIRE(config_error("threads: 5000\n" + kModel) ==
          "bad.yaml:1:10: threads must be an integer from 0 to 4096 (got `5000`)");
  REQUIRE(config_error("data: {limit: -5}\n" + kModel) ==
          "bad.yaml:1:15: data.limit must be an integer from 0 to 1000000000 (got `-5`)");
  REQUIRE(config_error("data: {num_parallel_calls: 0}\n" + kModel) ==
          "bad.yaml:1:28: data.num_parallel_calls must be an integer from 1 to 1024 (got `0`)");
  REQUIRE(config_error(kModel + "training: {trace: {every: 0}}\n") ==
          "bad.yaml:4:27: training.trace.every must be an integer from 1 to 1000000000000 (got "
          "`0`)");
  REQUIRE(config_error(kModel + "training: {checkpoint: {every: 0}}\n") ==
          "bad.yaml:4:32: training.checkpoint.every must be an integer from 1 to 1000000000000 "
          "(got `0`)");
  REQUIRE(config_error(kModel + "training: {log: {every: -1}}\n") ==
          "bad.yaml:4:25: training.log.every must be an integer from 0 to 1000000000000 (got "
          "`-1`)");
  REQUIRE(config_error(kModel + "training: {checkpoint: {keep: 0}}\n") ==
          "bad.yaml:4:31: training.checkpoint.keep must be an integer from 1 to 1000 (got `0`)");
}

TEST_CASE("zero or negative sizes are refused: resize, batch, units, filters, kernel, pool") {
  REQUIRE(config_error("data: {resize: [0, 0]}\n" + kModel) ==
          "bad.yaml:1:17: data.resize[0] must be an integer from 1 to 1024 (got `0`)");
  REQUIRE(config_error("data: {resize: [28, -1]}\n" + kModel) ==
          "bad.yaml:1:21: data.resize[1] must be an integer from 1 to 1024 (got `-1`)");
  REQUIRE(config_error("data: {batch_size: -64}\n" + kModel) ==
          "bad.yaml:1:20: data.batch_size must be an integer from 1 to 65536 (got `-64`)");
  REQUIRE(config_error("model:\n  - flatten: {}\n  - dense: {units: -10}\n") ==
          "bad.yaml:3:20: model.1.dense.units must be an integer from 1 to 1000000 (got `-10`)");
  REQUIRE(config_error("model:\n  - conv2d: {filters: 4, kernel_size: 0}\n  - flatten: {}\n"
                       "  - dense: {units: 10}\n") ==
          "bad.yaml:2:39: model.0.conv2d.kernel_size must be an integer from 1 to 4096 (got `0`)");
  REQUIRE(config_error("model:\n  - max_pooling2d: {pool_size: [2, 0]}\n  - flatten: {}\n"
                       "  - dense: {units: 10}\n") ==
          "bad.yaml:2:36: model.0.max_pooling2d.pool_size[1] must be an integer from 1 to 4096 "
          "(got `0`)");
}

TEST_CASE("a config whose aliases expand past the node limit is refused before it is expanded") {
  // Eleven levels of ten aliases each: 10^11 nodes if expanded.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 11; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      if (k > 0) yaml += ", ";
      yaml += prev;
    }
    yaml += "]\n";
  }
  const std::string error = config_error(yaml + kModel);
  REQUIRE_THAT(error, StartsWith("bad.yaml:"));
  REQUIRE_THAT(error, Catch::Matchers::Contains(
                          "holds more than 100000 values once its aliases (*name) are expanded"));
}

TEST_CASE("nesting is bounded in the file and in --set values") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  REQUIRE_THAT(config_error("seed: " + deep + "\n"),
               Catch::Matchers::Contains("nests deeper than 32 levels"));
  const std::string forty = std::string(40, '[') + std::string(40, ']');
  REQUIRE(config_error("seed: 1\nmodel: " + forty + "\n") ==
          "bad.yaml:2:40: the config nests maps and lists deeper than 32 levels; a config needs a "
          "few, so flatten it");
  REQUIRE_THAT(config_error(kModel, {"seed=" + deep}),
               StartsWith("--set seed=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["));
  REQUIRE_THAT(config_error(kModel, {"seed=" + deep}),
               Catch::Matchers::Contains("nests deeper than 32 levels"));
}

TEST_CASE("a config larger than 1 MiB is refused without parsing it") {
  const std::string big = "# " + std::string(1 << 20, 'x') + "\n" + kModel;
  REQUIRE(config_error(big) == "bad.yaml: the config is " + std::to_string(big.size()) +
                                   " bytes, more than the 1048576 a config may have; is this the "
                                   "right file?");
}

TEST_CASE("an error quoting hostile text stays one line and short") {
  const std::string error = config_error("seed: \"a\\nb\"\n" + kModel);
  REQUIRE(error ==
          "bad.yaml:1:7: seed must be an integer from 0 to 9223372036854775807 (got the "
          "string \"a\\nb\")");
  const std::string long_key = std::string(500, 'k');
  const std::string unknown = config_error(long_key + ": 1\n" + kModel);
  REQUIRE(unknown.find('\n') == std::string::npos);
  REQUIRE(unknown.find(std::string(60, 'k') + "... (500 bytes)` in the config") !=
          std::string::npos);
}

TEST_CASE("the Keras callbacks refuse what Keras refuses and what the history cannot hold") {
  CHECK(
      config_error(kModel + "training:\n  validation: false\n  early_stopping: {patience: 2}\n") ==
      "bad.yaml:6:19: training.early_stopping.monitor is val_loss, which needs "
      "training.validation: true (or monitor loss)");
  CHECK(config_error(kModel + "training:\n  reduce_lr_on_plateau: {factor: 1.5}\n") ==
        "bad.yaml:5:34: training.reduce_lr_on_plateau.factor must be above 0 and below 1 (Keras "
        "refuses a factor >= 1.0; got 1.5)");
  CHECK_THAT(config_error(kModel + "training:\n  optimizer:\n    name: adam\n    learning_rate:\n"
                                   "      {name: cosine_decay, initial_learning_rate: 0.1, "
                                   "decay_steps: 10}\n  reduce_lr_on_plateau: {}\n"),
             Catch::Contains("cannot change a learning rate that follows a schedule"));
  CHECK_THAT(config_error(kModel + "training:\n  early_stopping: {monitor: lr}\n"),
             Catch::Contains("must be one of loss, accuracy, val_loss, val_accuracy"));
}

TEST_CASE("a layer graph's errors name the layers and their shapes before anything is built") {
  const std::string head = "model:\n  - conv2d: {filters: 4, kernel_size: 3, name: a}\n";
  const std::string tail = "  - flatten: {}\n  - dense: {units: 10}\n";
  // A name no layer has, a later layer (no loops can be written), a merge of one input.
  CHECK(config_error(head + "  - add: {inputs: [a, b]}\n" + tail) ==
        "bad.yaml:3:19: layer 1 (add `add`) takes `b`, which is no layer's name (nor `input`, the "
        "model's "
        "input)");
  CHECK(
      config_error(head +
                   "  - add: {inputs: [a, c]}\n  - conv2d: {filters: 4, kernel_size: 1, "
                   "name: c}\n" +
                   tail) ==
      "bad.yaml:3:19: layer 1 (add `add`) takes `c`, which comes at or after it; list every layer "
      "after the layers it takes (a graph cannot loop)");
  CHECK(config_error(head + "  - add: {inputs: [a]}\n" + tail) ==
        "bad.yaml:3:19: layer 1 (add `add`) merges its inputs, so it needs two or more; name them "
        "with "
        "inputs: [a, b]");
  CHECK(config_error(head + "  - add\n" + tail) ==
        "bad.yaml:3:5: model.1.add needs inputs: the layers it merges, e.g. `- add: {inputs: "
        "[conv2d, conv2d_1]}`");
  // A branch that reaches nothing.
  CHECK(config_error(head + "  - conv2d: {filters: 4, kernel_size: 1, name: side}\n"
                            "  - flatten: {inputs: [a]}\n  - dense: {units: 10}\n") ==
        "bad.yaml:3:5: layer 1 (conv2d `side`)'s output is taken by no later layer, so it cannot "
        "reach "
        "the model's output (the last layer); remove it or name it in a later layer's inputs");
  // Shapes that do not merge: both layers and their shapes named.
  CHECK(config_error(head +
                     "  - conv2d: {filters: 4, kernel_size: 3, name: b}\n"
                     "  - add: {inputs: [a, b]}\n" +
                     tail) ==
        "bad.yaml:4:19: layer 2 (add `add`) cannot merge `a` (26, 26, 4) with `b` (24, 24, 4); the "
        "shapes must be equal");
  CHECK(config_error(head +
                     "  - conv2d: {filters: 4, kernel_size: 3, name: b}\n"
                     "  - concatenate: {inputs: [a, b]}\n" +
                     tail) ==
        "bad.yaml:4:27: layer 2 (concatenate `concatenate`) cannot merge `a` (26, 26, 4) with `b` "
        "(24, 24, 4); "
        "all but the last axis must agree");
  CHECK(config_error(head + "  - conv2d: {filters: 4, kernel_size: 3, name: input}\n" + tail)
            .find("is named `input`, the model input's name; rename it") != std::string::npos);
  CHECK(config_error("model:\n  - flatten: {}\n  - reshape: {target_shape: [2, 2, 7, -1]}\n" +
                     tail) ==
        "bad.yaml:3:29: model.1.reshape.target_shape must be [h, w, c], [timesteps, features] or "
        "[f], one entry may be -1 (got 4 entries)");
  CHECK(config_error("model:\n  - reshape: {target_shape: [28, 28]}\n  - dense: {units: 10}\n") ==
        "bad.yaml:3:5: layer 1 (dense `dense`) gets the sequence (28, 28), which it does not "
        "take; end the recurrent layer with return_sequences: false, flatten the sequence "
        "first, or (dense) wrap it in time_distributed");
  // The wrappers: what they wrap, and how.
  const std::string seq = "model:\n  - reshape: {target_shape: [28, 28]}\n";
  CHECK(config_error(seq + "  - bidirectional: {merge_mode: sum}\n" + tail) ==
        "bad.yaml:3:20: model.1.bidirectional.layer is missing; add the layer it wraps, e.g. "
        "layer: {gru: {units: 32}}");
  CHECK(config_error(seq + "  - bidirectional: {layer: {dense: {units: 4}}}\n" + tail) ==
        "bad.yaml:3:28: model.1.bidirectional.layer is dense; bidirectional wraps simple_rnn, "
        "lstm or gru");
  CHECK(config_error(seq + "  - bidirectional: {layer: {lstm: {units: 4, go_backwards: true}}}\n" +
                     tail) ==
        "bad.yaml:3:60: model.1.bidirectional.layer.lstm.go_backwards must be false: "
        "bidirectional runs the layer backwards itself (Keras refuses the same)");
  CHECK(config_error(seq + "  - bidirectional: {merge_mode: max, layer: {lstm: {units: 4}}}\n" +
                     tail) ==
        "bad.yaml:3:33: model.1.bidirectional.merge_mode must be one of concat, sum, mul, ave "
        "(got `max`)");
  CHECK(config_error(seq + "  - time_distributed: {layer: {dense: {units: 0}}}\n" + tail) ==
        "bad.yaml:3:47: model.1.time_distributed.layer.dense.units must be an integer from 1 to "
        "1000000 (got `0`)");
  CHECK(config_error(seq + "  - time_distributed: {layer: {dense: {units: 4, inputs: input}}}\n" +
                     tail) ==
        "bad.yaml:3:58: model.1.time_distributed.layer.dense.inputs: a wrapped layer takes the "
        "wrapper's input; name inputs on model.1.time_distributed instead");
  CHECK(config_error("model:\n  - time_distributed: {layer: {dense: {units: 4}}}\n" + tail) ==
        "bad.yaml:2:5: layer 0 (time_distributed `time_distributed`) needs a sequence input "
        "(timesteps, features) but gets (28, 28, 1); reshape it first, e.g. `- reshape: "
        "{target_shape: [28, 28]}` for 28 x 28 images read row by row");
  CHECK(config_error("model:\n  - permute: {dims: [1, 1, 2]}\n" + tail) ==
        "bad.yaml:2:21: layer 0 (permute `permute`) dims [1, 1, 2] is not an order of the 3 axes "
        "of its input (28, 28, 1) (1-based: [2, 1] swaps two)");
  CHECK(config_error("model:\n  - lstm: {units: 4}\n" + tail) ==
        "bad.yaml:2:5: layer 0 (lstm `lstm`) needs a sequence input (timesteps, features) but "
        "gets (28, 28, 1); reshape it first, e.g. `- reshape: {target_shape: [28, 28]}` for 28 x "
        "28 images read row by row");
  CHECK(config_error("model:\n  - flatten: {}\n  - reshape: {target_shape: [5, 5, 5]}\n" + tail) ==
        "bad.yaml:3:29: layer 1 (reshape `reshape`) is [5, 5, 5], which cannot hold the 784 "
        "values of its input (784)");
  // A graph that is right: two branches of the input, concatenated.
  CHECK(config_error("model:\n  - conv2d: {filters: 4, kernel_size: 3, padding: same, name: a}\n"
                     "  - conv2d: {filters: 2, kernel_size: 1, inputs: [input], name: b}\n"
                     "  - concatenate: {inputs: [a, b]}\n" +
                     tail) == "no error");
}
