// `--set key.path=value` overrides: any key, checked with the file's rules, errors name the flag.
#include <catch2/catch.hpp>

#include "config_test_helpers.h"

using Catch::Matchers::StartsWith;
using namespace repro;

namespace {

RunConfig recipe_with(const std::vector<std::string>& overrides) {
  return load_config(test::recipe_path(), overrides);
}

std::string recipe_error(const std::vector<std::string>& overrides) {
  try {
    recipe_with(overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("overrides set scalars, lists, layer arguments and new keys") {
  const RunConfig config =
      recipe_with({"training.epochs=3", "model.2.rate=0.3", "seed=1", "data.resize=[28,28]",
                   "model.5.dropout.rate=0.4", "training.checkpoint.every=100", "data.prefetch=4"});
  REQUIRE(config.training.epochs == 3);
  REQUIRE(config.model[2].rate == 0.3);
  REQUIRE(config.model[5].rate == 0.4);
  REQUIRE(config.seed == 1);
  REQUIRE(config.data.resize == std::array<int, 2>{28, 28});
  REQUIRE(infer_shapes(config)[0].output == std::vector<int64_t>{26, 26, 32});
  REQUIRE(config.training.checkpoint.enabled);
  REQUIRE(config.training.checkpoint.every_steps == 100);
  REQUIRE(config.data.prefetch == 4);
}

TEST_CASE("overrides reach into bare optimizer and initializer names and whole layers") {
  const RunConfig tiny =
      load_config(std::string(REPRO_SOURCE_DIR) + "/configs/tiny.yaml",
                  {"training.optimizer.learning_rate=0.01", "model.4.kernel_initializer.seed=5",
                   "model.3.name=flat", "model.2={dropout: {rate: 0.5, name: drop}}"});
  REQUIRE(tiny.training.optimizer.name == "adam");
  REQUIRE(tiny.training.optimizer.learning_rate == 0.01);
  REQUIRE(tiny.model[4].kernel_initializer.name == "glorot_uniform");
  REQUIRE(tiny.model[4].kernel_initializer.seed == 5);
  REQUIRE(tiny.model[3].name == "flat");
  REQUIRE(tiny.model[2].name == "drop");
  REQUIRE(tiny.model[2].rate == 0.5);
}

TEST_CASE("a bad override is an error that names the flag") {
  REQUIRE(
      recipe_error({"training.epochs=-1"}) ==
      "--set training.epochs=-1: training.epochs must be an integer from 1 to 1000000 (got `-1`)");
  REQUIRE_THAT(recipe_error({"training.epoch=3"}),
               StartsWith("--set training.epoch=3: unknown key `epoch` in training; valid keys: "
                          "epochs, "));
  REQUIRE(recipe_error({"model.2.rate=abc"}) ==
          "--set model.2.rate=abc: model.2.dropout.rate must be a finite number (got `abc`)");
  REQUIRE_THAT(recipe_error({"model.2.rate=1.5"}),
               StartsWith("--set model.2.rate=1.5: model.2.dropout.rate must be in [0, 1)"));
  REQUIRE(recipe_error({"model.11.rate=0.1"}) ==
          "--set model.11.rate=0.1: `model` has 11 items; use an index from 0 to 10 instead of "
          "`11`");
  REQUIRE(recipe_error({"seed.x=1"}) ==
          "--set seed.x=1: `seed` is a single value, not a map; use --set seed=VALUE");
  REQUIRE(recipe_error({"training.epochs"}) ==
          "--set training.epochs: expected key.path=value, e.g. --set training.epochs=3");
  REQUIRE_THAT(recipe_error({"data.resize=[28"}),
               StartsWith("--set data.resize=[28: the value is not valid YAML"));
  REQUIRE(recipe_error({"data..resize=1"}) ==
          "--set data..resize=1: the key path `data..resize` has an empty part");
  REQUIRE(recipe_error({"model.0.dropout.rate=0.1"}) ==
          "--set model.0.dropout.rate=0.1: unknown key `dropout` in model.0.conv2d; valid keys: "
          "filters, kernel_size, strides, padding, activation, use_bias, kernel_initializer, "
          "bias_initializer, name, inputs");
}

TEST_CASE("an override that breaks the shapes points at the layer that no longer fits") {
  REQUIRE_THAT(recipe_error({"data.resize=[8,8]"}), StartsWith(test::recipe_path() + ":"));
  REQUIRE_THAT(recipe_error({"data.resize=[8,8]"}),
               Catch::Matchers::Contains("layer 4 (max_pooling2d `max_pooling2d_1`) has "
                                         "pool_size [2, 2], larger than its input (1, 1, 32)"));
}
