// The layer vocabulary beyond the recipe: average pooling, activation layers and the sigmoid /
// tanh activations, with Keras's shapes, auto names, strides defaults and errors at their place.
#include <catch2/catch.hpp>

#include "config_test_helpers.h"

using namespace repro;

namespace {

const std::string kLayers =
    "seed: 1\n"
    "model:\n"
    "  - conv2d: {filters: 16, kernel_size: 3, padding: same, activation: linear}\n"
    "  - activation: {activation: relu}\n"
    "  - average_pooling2d: {pool_size: 2}\n"
    "  - conv2d: {filters: 16, kernel_size: 3, strides: 2, padding: same, activation: tanh}\n"
    "  - average_pooling2d: {pool_size: 3, strides: 1, padding: same}\n"
    "  - flatten: {}\n"
    "  - dense: {units: 32, activation: sigmoid}\n"
    "  - dense: {units: 10}\n"
    "  - activation: {activation: softmax}\n";

}  // namespace

TEST_CASE("average pooling and activation layers load with Keras's shapes and names") {
  const RunConfig config = parse_config(kLayers, "layers.yaml");
  const std::vector<LayerShape> shapes = infer_shapes(config);
  REQUIRE(shapes.size() == 9);
  CHECK(shapes[1].name == "activation");
  CHECK(shapes[1].kind == "Activation");
  CHECK(shapes[1].output == std::vector<int64_t>{28, 28, 16});
  CHECK(shapes[2].name == "average_pooling2d");
  CHECK(shapes[2].kind == "AveragePooling2D");
  CHECK(shapes[2].output == std::vector<int64_t>{14, 14, 16});
  CHECK(config.model[2].strides == std::array<int, 2>{2, 2});  // strides default to pool_size
  CHECK(shapes[3].output == std::vector<int64_t>{7, 7, 16});
  CHECK(shapes[4].output == std::vector<int64_t>{7, 7, 16});
  CHECK(shapes[4].name == "average_pooling2d_1");
  CHECK(config.model[3].activation == Activation::tanh);
  CHECK(config.model[6].activation == Activation::sigmoid);
  CHECK(shapes[8].name == "activation_1");
  CHECK(shapes[8].output == std::vector<int64_t>{10});
  const RunConfig again = parse_config(to_yaml(config), "again.yaml");
  CHECK(flatten_config(again) == flatten_config(config));
}

TEST_CASE("activation layers need an activation, softmax only last, and unknown keys are refused") {
  CHECK(test::config_error("model:\n  - flatten: {}\n  - activation: {}\n  - dense: {units: 10}\n")
            .find("bad.yaml:3:") == 0);
  CHECK(test::config_error("model:\n  - flatten: {}\n  - activation: {}\n  - dense: {units: 10}\n")
            .find("activation is missing") != std::string::npos);
  const std::string softmax_early = test::config_error(
      "model:\n  - flatten: {}\n  - activation: {activation: softmax}\n"
      "  - dense: {units: 10}\n");
  CHECK(softmax_early.find("bad.yaml:3:") == 0);
  CHECK(softmax_early.find("softmax is only allowed on the last layer") != std::string::npos);
  const std::string unknown =
      test::config_error("model:\n  - average_pooling2d: {pool_size: 2, rate: 3}\n");
  CHECK(unknown.find("bad.yaml:2:") == 0);
  CHECK(unknown.find("unknown key `rate`") != std::string::npos);
  CHECK(test::config_error("model:\n  - activation: {activation: mish}\n")
            .find("must be one of relu, sigmoid, tanh, softmax, linear") != std::string::npos);
}

TEST_CASE("optimizers rmsprop and adamw take Keras's arguments, learning_rate a schedule map") {
  const RunConfig config = parse_config(
      test::kSmall +
          "  optimizer: {name: adamw, weight_decay: 0.01,\n"
          "              learning_rate: {name: cosine_decay, initial_learning_rate: 0.002,\n"
          "                              decay_steps: 100}}\n",
      "opt.yaml");
  const OptimizerConfig& optimizer = config.training.optimizer;
  CHECK(optimizer.name == "adamw");
  CHECK(optimizer.weight_decay == 0.01);
  CHECK(optimizer.schedule.name == "cosine_decay");
  CHECK(optimizer.schedule.initial_learning_rate == 0.002);
  CHECK(optimizer.schedule.decay_steps == 100);
  CHECK(optimizer.schedule.alpha == 0.0);
  const RunConfig again = parse_config(to_yaml(config), "again.yaml");
  CHECK(flatten_config(again) == flatten_config(config));

  const RunConfig rms = parse_config(
      test::kSmall +
          "  optimizer: {name: RMSprop, rho: 0.8, momentum: 0.5, centered: true,\n"
          "              learning_rate: {name: PiecewiseConstantDecay, boundaries: [10, 20],\n"
          "                              values: [0.01, 0.005, 0.001]}}\n",
      "opt.yaml");
  CHECK(rms.training.optimizer.name == "rmsprop");
  CHECK(rms.training.optimizer.rho == 0.8);
  CHECK(rms.training.optimizer.centered);
  CHECK(rms.training.optimizer.schedule.name == "piecewise_constant_decay");
  CHECK(rms.training.optimizer.schedule.boundaries == std::vector<int64_t>{10, 20});
  CHECK(parse_config(to_yaml(rms), "again.yaml").training.optimizer.schedule.values ==
        std::vector<double>{0.01, 0.005, 0.001});
  // --set replaces the schedule by a number, or reaches into it.
  CHECK(parse_config(to_yaml(rms), "again.yaml", {"training.optimizer.learning_rate=0.1"})
            .training.optimizer.schedule.name.empty());
  const RunConfig exp =
      parse_config(test::kSmall +
                       "  optimizer: {name: sgd, learning_rate: {name: exponential_decay,\n"
                       "    initial_learning_rate: 0.1, decay_steps: 5, decay_rate: 0.9}}\n",
                   "opt.yaml", {"training.optimizer.learning_rate.staircase=true"});
  CHECK(exp.training.optimizer.schedule.staircase);
}

TEST_CASE("bad optimizers and schedules are errors at their place") {
  const std::string head = test::kSmall + "  optimizer:\n";
  const std::string unknown_arg = test::config_error(head + "    name: adamw\n    rho: 0.9\n");
  CHECK(unknown_arg.find("bad.yaml:13:") == 0);
  CHECK(unknown_arg.find("unknown key `rho`") != std::string::npos);
  const std::string bad_schedule = test::config_error(
      head + "    name: adam\n    learning_rate: {name: linear_decay, decay_steps: 3}\n");
  CHECK(bad_schedule.find("bad.yaml:13:") == 0);
  CHECK(bad_schedule.find("exponential_decay, cosine_decay or piecewise_constant_decay") !=
        std::string::npos);
  CHECK(test::config_error(head + "    learning_rate: {name: cosine_decay, "
                                  "initial_learning_rate: 0.1, warmup_steps: 3}\n")
            .find("unknown key `warmup_steps`") != std::string::npos);
  CHECK(test::config_error(head + "    learning_rate: {name: cosine_decay, "
                                  "initial_learning_rate: 0.1}\n")
            .find("decay_steps is missing") != std::string::npos);
  CHECK(test::config_error(head + "    learning_rate: {name: piecewise_constant_decay, "
                                  "boundaries: [5, 3], values: [1, 2, 3]}\n")
            .find("strictly increasing") != std::string::npos);
  CHECK(test::config_error(head + "    learning_rate: {name: piecewise_constant_decay, "
                                  "boundaries: [5], values: [1]}\n")
            .find("one value more than boundaries") != std::string::npos);
  CHECK(test::config_error(head + "    name: rmsprop\n    rho: 1.5\n")
            .find("rho must be in [0, 1)") != std::string::npos);
}

TEST_CASE(
    "batch_normalization takes Keras's arguments and counts its moving statistics as "
    "non-trainable") {
  const RunConfig config = parse_config(
      "model:\n"
      "  - conv2d: {filters: 16, kernel_size: 3}\n"
      "  - batch_normalization: {}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 10}\n"
      "  - batch_normalization: {momentum: 0.9, epsilon: 0.01, center: false}\n",
      "bn.yaml");
  const std::vector<LayerShape> shapes = infer_shapes(config);
  CHECK(shapes[1].name == "batch_normalization");
  CHECK(shapes[1].kind == "BatchNormalization");
  CHECK(shapes[1].params == 64);  // gamma, beta, moving mean, moving variance: 16 each
  CHECK(shapes[1].non_trainable == 32);
  CHECK(shapes[4].name == "batch_normalization_1");
  CHECK(shapes[4].params == 30);  // no beta
  CHECK(config.model[1].momentum == 0.99);
  CHECK(config.model[1].epsilon == 0.001);
  CHECK(config.model[4].momentum == 0.9);
  CHECK_FALSE(config.model[4].center);
  const RunConfig again = parse_config(to_yaml(config), "again.yaml");
  CHECK(flatten_config(again) == flatten_config(config));
  CHECK(
      test::config_error("model:\n  - batch_normalization: {axis: 1}\n").find("axis must be -1") !=
      std::string::npos);
  CHECK(
      test::config_error("model:\n  - batch_normalization: {momentum: 2}\n").find("bad.yaml:2:") ==
      0);
}

TEST_CASE("the augmentation layers and the documented example config load as written") {
  const std::string example =
      "model:\n"
      "  - random_flip: {mode: horizontal, seed: 3}\n"
      "  - random_translation: {height_factor: 0.1, width_factor: 0.1}\n"
      "  - conv2d: {filters: 16, kernel_size: 3, padding: same, activation: linear}\n"
      "  - batch_normalization: {}\n"
      "  - activation: {activation: relu}\n"
      "  - average_pooling2d: {pool_size: 2}\n"
      "  - conv2d: {filters: 16, kernel_size: 3, strides: 2, padding: same, activation: relu}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 10, activation: softmax}\n"
      "training:\n"
      "  optimizer: {name: adamw, learning_rate: {name: cosine_decay, initial_learning_rate: "
      "0.002, decay_steps: 100}}\n";
  const RunConfig config = parse_config(example, "example.yaml");
  REQUIRE(config.model.size() == 9);
  CHECK(config.model[0].kind == LayerKind::random_flip);
  CHECK(config.model[0].mode == "horizontal");
  CHECK(config.model[0].seed == 3);
  CHECK(config.model[1].height_factor == std::array<double, 2>{-0.1, 0.1});
  CHECK(config.model[1].fill_mode == "reflect");
  CHECK(config.model[1].interpolation == "bilinear");
  CHECK_FALSE(config.model[1].seed);
  const std::vector<LayerShape> shapes = infer_shapes(config);
  CHECK(shapes[0].kind == "RandomFlip");
  CHECK(shapes[1].output == std::vector<int64_t>{28, 28, 1});  // no resize: 28x28
  CHECK(shapes[5].output == std::vector<int64_t>{14, 14, 16});
  CHECK(shapes[6].output == std::vector<int64_t>{7, 7, 16});
  CHECK(shapes[8].params == 7 * 7 * 16 * 10 + 10);
  const RunConfig again = parse_config(to_yaml(config), "again.yaml");
  CHECK(flatten_config(again) == flatten_config(config));

  const RunConfig zoom = parse_config(
      "model:\n  - random_zoom: {height_factor: [0.2, -0.1], fill_mode: constant, seed: 4}\n"
      "  - flatten: {}\n  - dense: {units: 10}\n",
      "zoom.yaml");
  CHECK(zoom.model[0].height_factor == std::array<double, 2>{-0.1, 0.2});
  CHECK_FALSE(zoom.model[0].width_factor_given);
  CHECK(flatten_config(parse_config(to_yaml(zoom), "again.yaml")) == flatten_config(zoom));

  CHECK(test::config_error("model:\n  - random_translation: {height_factor: 0.1}\n")
            .find("width_factor is missing") != std::string::npos);
  CHECK(test::config_error("model:\n  - random_zoom: {height_factor: 1.5}\n")
            .find("must lie in [-1, 1]") != std::string::npos);
  CHECK(test::config_error("model:\n  - random_flip: {mode: diagonal}\n").find("bad.yaml:2:") == 0);
  CHECK(test::config_error("model:\n  - flatten: {}\n  - random_flip: {}\n  - dense: {units: 10}\n")
            .find("needs an image input") != std::string::npos);
}

TEST_CASE("every flattened key of the Fashion-MNIST config is a --set path that changes nothing") {
  const std::string path = std::string(REPRO_SOURCE_DIR) + "/configs/fashion_bn_aug.yaml";
  const RunConfig config = load_config(path);
  const auto flat = flatten_config(config);
  for (const auto& [key, value] : flat) {
    // Naming a layer takes it out of Keras's auto numbering, which renames the layers after it.
    if (key.rfind("model.", 0) == 0 && key.size() > 5 && key.substr(key.size() - 5) == ".name") {
      continue;
    }
    INFO(key << "=" << value);
    REQUIRE(flatten_config(load_config(path, {key + "=" + value})) == flat);
  }
}
