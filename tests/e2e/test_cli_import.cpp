// repro import keras: Keras 3 to_json() fixtures (tests/e2e/keras/) convert to configs equal to
// the project's own (the Fashion-MNIST config with every new layer, the recipe with a seeded
// initializer); unsupported layers and arguments are one error that lists each of them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/config.h"
#include "run_cli.h"

using repro_test::run_repro;
using repro_test::scratch_dir;
using repro_test::slurp_file;

namespace {

// The model keys of a config, flattened ("model.3.batch_normalization.momentum" -> "0.99").
std::map<std::string, std::string> model_keys(const repro::RunConfig& config) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : repro::flatten_config(config))
    if (key.rfind("model.", 0) == 0) out[key] = value;
  return out;
}

}  // namespace

TEST_CASE("repro import keras turns the Fashion-MNIST model's JSON into its config's layers") {
  const auto dir = scratch_dir("import_fashion");
  const std::string out = (dir / "imported.yaml").string();
  auto r = run_repro("", "import keras tests/e2e/keras/fashion_bn_aug.json --out '" + out + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const repro::RunConfig imported = repro::parse_config(slurp_file(out), out);
  const repro::RunConfig project =
      repro::load_config(std::string(REPRO_SOURCE_DIR) + "/configs/fashion_bn_aug.yaml");
  CHECK(model_keys(imported) == model_keys(project));
  CHECK(imported.data.resize == std::array<int, 2>{0, 0});  // 28x28 needs no resize
  std::filesystem::remove_all(dir);
}

TEST_CASE("repro import keras keeps initializer seeds and the input size of the recipe's model") {
  auto r = run_repro("", "import keras tests/e2e/keras/mnist_recipe.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const repro::RunConfig imported = repro::parse_config(r.out, "stdout");
  CHECK(imported.data.resize == std::array<int, 2>{32, 32});
  REQUIRE(imported.model.size() == 11);
  CHECK(imported.model[8].kernel_initializer.name == "he_normal");
  CHECK(imported.model[8].kernel_initializer.seed == 42);
  repro::RunConfig recipe =
      repro::load_config(std::string(REPRO_SOURCE_DIR) + "/configs/mnist_recipe.yaml");
  recipe.model[8].kernel_initializer = imported.model[8].kernel_initializer;
  CHECK(model_keys(imported) == model_keys(recipe));
}

TEST_CASE("repro import keras names every unsupported layer and argument in one error") {
  const auto dir = scratch_dir("import_bad");
  const std::string out = (dir / "never.yaml").string();
  auto r = run_repro("", "import keras tests/e2e/keras/unsupported.json --out '" + out + "'");
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("unsupported.json: unsupported: ") != std::string::npos);
  CHECK(
      r.err.find("layers[1] \"conv2d\" (Conv2D): argument dilation_rate [2,2] is not supported") !=
      std::string::npos);
  CHECK(r.err.find("layers[2] \"lstm\" (LSTM): this layer type is not supported") !=
        std::string::npos);
  CHECK(r.err.find("layers[4] \"dense\" (Dense): argument kernel_regularizer") !=
        std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  CHECK_FALSE(std::filesystem::exists(out));
  std::filesystem::remove_all(dir);

  auto missing = run_repro("", "import keras no/such/model.json");
  CHECK(missing.exit_code == 2);
  const auto bad_dir = scratch_dir("import_malformed");
  std::ofstream((bad_dir / "m.json").string())
      << "{\"class_name\": \"Sequential\",\n  \"config\": [}";
  auto malformed = run_repro("", "import keras '" + (bad_dir / "m.json").string() + "'");
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err.find("m.json:2:") != std::string::npos);
  std::ofstream((bad_dir / "t.json").string())
      << "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": 5}]}}";
  auto wrong_type = run_repro("", "import keras '" + (bad_dir / "t.json").string() + "'");
  CHECK(wrong_type.exit_code == 2);
  CHECK(wrong_type.err.find("not a model Keras wrote") != std::string::npos);
  std::filesystem::remove_all(bad_dir);
}

TEST_CASE("repro import keras takes the optimizer, loss and metrics of a compile_config") {
  // The recipe's model as model.save() writes its config.json: compiled with Adam at 0.0005.
  auto r = run_repro("", "import keras tests/e2e/keras/mnist_recipe_compiled.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const repro::RunConfig imported = repro::parse_config(r.out, "stdout");
  CHECK(imported.training.optimizer.name == "adam");
  CHECK(imported.training.optimizer.learning_rate == 0.0005);
  CHECK(imported.training.optimizer.epsilon == 1e-07);
  CHECK(imported.training.loss == "sparse_categorical_crossentropy");
  CHECK(imported.training.metrics == std::vector<std::string>{"accuracy"});

  // What repro would train otherwise than Keras is named, every item at once.
  std::string text =
      slurp_file(std::string(REPRO_SOURCE_DIR) + "/tests/e2e/keras/mnist_recipe_compiled.json");
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"\"amsgrad\": false", "\"amsgrad\": true"},
        {"\"clipnorm\": null", "\"clipnorm\": 1.0"},
        {"\"metrics\": [\"accuracy\"]", "\"metrics\": [\"mae\"]"}}) {
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), to);
  }
  const auto dir = scratch_dir("import_compiled");
  const std::string file = (dir / "model.json").string();
  std::ofstream(file) << text;
  auto bad = run_repro("", "import keras '" + file + "'");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("compile_config.optimizer argument clipnorm 1.0 is not supported") !=
        std::string::npos);
  CHECK(bad.err.find("compile_config.optimizer argument amsgrad true is not supported") !=
        std::string::npos);
  CHECK(bad.err.find("compile_config.metrics \"mae\" is not supported") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("repro import keras reads a .keras archive's config.json, and refuses other files") {
  auto r = run_repro("", "import keras fuzz/corpus/keras_archive/recipe_compiled.keras");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const repro::RunConfig imported = repro::parse_config(r.out, "stdout");
  CHECK(imported.model.size() == 11);
  CHECK(imported.training.optimizer.learning_rate == 0.0005);
  auto none = run_repro("", "import keras fuzz/corpus/keras_archive/no_config.keras");
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("the archive holds no config.json") != std::string::npos);
  const auto dir = scratch_dir("import_archive");
  const std::string fake = (dir / "fake.keras").string();
  std::ofstream(fake) << "{}";
  auto not_zip = run_repro("", "import keras '" + fake + "'");
  CHECK(not_zip.exit_code == 2);
  CHECK(not_zip.err.find("not a .keras archive (a zip file)") != std::string::npos);
  std::filesystem::remove_all(dir);
}
