// Loading configs: the recipe's exact layers and 21,578 parameters, Keras defaults and shapes.
#include <catch2/catch.hpp>

#include <filesystem>
#include "config_test_helpers.h"

#include "config/config.h"

using namespace repro;

TEST_CASE("the recipe config loads with the Keras recipe's layers, shapes and 21,578 params") {
  const RunConfig config = load_config(test::recipe_path());
  REQUIRE(config.name == "mnist_recipe");
  REQUIRE(config.seed == 812);
  REQUIRE(config.rng == RngKind::jax);
  REQUIRE(config.determinism == Determinism::on);
  REQUIRE(config.data.dataset == "mnist");
  REQUIRE(config.data.batch_size == 64);
  REQUIRE(config.data.shuffle_buffer == 0);
  REQUIRE(config.data.resize == std::array<int, 2>{32, 32});
  REQUIRE(config.data.num_parallel_calls == 0);
  REQUIRE(config.data.prefetch == 0);
  REQUIRE(config.training.epochs == 2);
  REQUIRE(config.training.optimizer.name == "adam");
  REQUIRE(config.training.optimizer.learning_rate == 0.001);
  REQUIRE(config.training.loss == "sparse_categorical_crossentropy");
  REQUIRE(config.training.metrics == std::vector<std::string>{"accuracy"});
  REQUIRE(config.training.validation);
  REQUIRE_FALSE(config.training.checkpoint.enabled);
  REQUIRE(input_shape(config) == std::array<int, 3>{32, 32, 1});

  const std::vector<LayerShape> shapes = infer_shapes(config);
  struct Expected {
    std::string name, kind;
    std::vector<int64_t> output;
    int64_t params;
  };
  const std::vector<Expected> expected = {
      {"conv2d", "Conv2D", {30, 30, 32}, 320},
      {"max_pooling2d", "MaxPooling2D", {15, 15, 32}, 0},
      {"dropout", "Dropout", {15, 15, 32}, 0},
      {"conv2d_1", "Conv2D", {13, 13, 32}, 9248},
      {"max_pooling2d_1", "MaxPooling2D", {6, 6, 32}, 0},
      {"dropout_1", "Dropout", {6, 6, 32}, 0},
      {"conv2d_2", "Conv2D", {4, 4, 32}, 9248},
      {"global_average_pooling2d", "GlobalAveragePooling2D", {32}, 0},
      {"dense", "Dense", {64}, 2112},
      {"dropout_2", "Dropout", {64}, 0},
      {"dense_1", "Dense", {10}, 650},
  };
  REQUIRE(shapes.size() == expected.size());
  int64_t total = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    INFO("layer " << i);
    REQUIRE(shapes[i].name == expected[i].name);
    REQUIRE(config.model[i].name == expected[i].name);
    REQUIRE(shapes[i].kind == expected[i].kind);
    REQUIRE(shapes[i].output == expected[i].output);
    REQUIRE(shapes[i].params == expected[i].params);
    total += shapes[i].params;
  }
  REQUIRE(total == 21578);
  REQUIRE(config.model[2].rate == 0.2);
  REQUIRE(config.model[1].strides == std::array<int, 2>{2, 2});  // Keras: strides = pool_size
  REQUIRE(config.model[0].activation == Activation::relu);
  REQUIRE(config.model[10].activation == Activation::softmax);
  REQUIRE(config.model[0].kernel_initializer.name == "glorot_uniform");
  REQUIRE_FALSE(config.model[0].kernel_initializer.seed.has_value());
  REQUIRE(config.model[0].bias_initializer.name == "zeros");
}

TEST_CASE("the tiny config is small: 16x16 input and 4,010 params") {
  const RunConfig config = load_config(std::string(REPRO_SOURCE_DIR) + "/configs/tiny.yaml");
  REQUIRE(config.data.limit == 512);
  REQUIRE(config.data.batch_size == 32);
  REQUIRE(config.training.epochs == 2);
  int64_t total = 0;
  for (const LayerShape& layer : infer_shapes(config)) total += layer.params;
  REQUIRE(total == 4010);
}

TEST_CASE("defaults are Keras's when keys are left out") {
  const RunConfig config = parse_config(test::kSmall, "small.yaml");
  REQUIRE(config.rng == RngKind::jax);
  REQUIRE(config.device == Device::cpu);
  REQUIRE(config.threads == 0);
  REQUIRE(config.data.resize == std::array<int, 2>{0, 0});
  REQUIRE(input_shape(config) == std::array<int, 3>{28, 28, 1});
  REQUIRE(config.data.shuffle);
  REQUIRE(config.model[0].strides == std::array<int, 2>{1, 1});
  REQUIRE(config.model[0].padding == Padding::valid);
  REQUIRE(config.model[0].use_bias);
  REQUIRE(config.model[2].activation == Activation::softmax);
  REQUIRE(config.training.optimizer.beta_2 == 0.999);
  REQUIRE(config.training.optimizer.epsilon == 1e-7);
  REQUIRE(infer_shapes(config)[0].output == std::vector<int64_t>{26, 26, 4});
  REQUIRE(infer_shapes(config)[1].output == std::vector<int64_t>{2704});
}

TEST_CASE("same padding gives Keras's ceil shapes and pooling strides default to the pool") {
  const RunConfig config = parse_config(
      "model:\n"
      "  - conv2d: {filters: 2, kernel_size: [3, 5], strides: 2, padding: same, use_bias: false}\n"
      "  - max_pooling2d: {pool_size: [2, 3]}\n"
      "  - max_pooling2d: {pool_size: 2, strides: 1, padding: same}\n"
      "  - global_average_pooling2d:\n"
      "  - dense: {units: 10, use_bias: false}\n",
      "shapes.yaml");
  const std::vector<LayerShape> shapes = infer_shapes(config);
  REQUIRE(shapes[0].output == std::vector<int64_t>{14, 14, 2});  // ceil(28 / 2)
  REQUIRE(shapes[0].params == 3 * 5 * 1 * 2);
  REQUIRE(shapes[1].output == std::vector<int64_t>{7, 4, 2});  // floor((14 - 3) / 3) + 1 = 4
  REQUIRE(shapes[2].output == std::vector<int64_t>{7, 4, 2});
  REQUIRE(shapes[3].output == std::vector<int64_t>{2});
  REQUIRE(shapes[4].params == 20);
  REQUIRE(config.model[1].strides == std::array<int, 2>{2, 3});
  REQUIRE(config.model[2].strides == std::array<int, 2>{1, 1});
}

TEST_CASE("initializers accept Keras names, class names and arguments") {
  const RunConfig config = parse_config(
      "model:\n"
      "  - conv2d: {filters: 2, kernel_initializer: HeNormal, bias_initializer: Ones}\n"
      "  - flatten:\n"
      "  - dense:\n"
      "      units: 10\n"
      "      kernel_initializer: {name: VarianceScaling, seed: 42, scale: 2.5, mode: fan_avg,\n"
      "                           distribution: normal}\n"
      "      bias_initializer: {name: constant, value: 0.5}\n",
      "init.yaml");
  REQUIRE(config.model[0].kernel_initializer.name == "he_normal");
  REQUIRE(config.model[0].bias_initializer.name == "ones");
  const InitializerSpec& kernel = config.model[2].kernel_initializer;
  REQUIRE(kernel.name == "variance_scaling");
  REQUIRE(kernel.seed == 42);
  REQUIRE(kernel.scale == 2.5);
  REQUIRE(kernel.mode == "fan_avg");
  REQUIRE(kernel.distribution == "truncated_normal");
  REQUIRE(config.model[2].bias_initializer.value == 0.5);
}

TEST_CASE("layer names: Keras auto names, given names, and the optimizer as a bare name") {
  const RunConfig config = parse_config(
      "model:\n"
      "  - flatten:\n"
      "  - dense: {units: 5, name: hidden}\n"
      "  - dropout: {rate: 0.5}\n"
      "  - dense: {units: 10}\n"
      "training: {optimizer: SGD}\n",
      "names.yaml");
  REQUIRE(config.model[1].name == "hidden");
  REQUIRE(config.model[2].name == "dropout");
  REQUIRE(config.model[3].name == "dense");  // as Keras: a named layer takes no auto number
  REQUIRE(config.training.optimizer.name == "sgd");
}

TEST_CASE("validate checks a config built in code, naming the key") {
  RunConfig config;
  config.path = "in-code";
  LayerConfig flatten;
  flatten.kind = LayerKind::flatten;
  flatten.name = "flatten";
  config.model.push_back(flatten);
  LayerConfig dense;
  dense.kind = LayerKind::dense;
  dense.name = "dense";
  dense.units = 10;
  config.model.push_back(dense);
  REQUIRE_NOTHROW(validate(config));
  config.model[1].units = 0;
  try {
    validate(config);
    FAIL("no error");
  } catch (const InputError& e) {
    REQUIRE(std::string(e.what()) ==
            "in-code: model.1.dense.units must be an integer from 1 to 1000000 (got 0)");
  }
}

TEST_CASE("every config in configs/ loads and validates") {
  int configs = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(REPRO_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    REQUIRE_NOTHROW(repro::load_config(entry.path().string()));
    ++configs;
  }
  REQUIRE(configs >= 7);
}
