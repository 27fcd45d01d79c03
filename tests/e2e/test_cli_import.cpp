// repro import keras: Keras 3 to_json() fixtures (tests/e2e/keras/) convert to configs equal to
// the project's own (the Fashion-MNIST config with every new layer, the recipe with a seeded
// initializer) or to the layer graph a Functional model means; unsupported layers, arguments and
// graph features are one error that lists each of them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "array_files.h"
#include "config/config.h"
#include "run_cli.h"

using repro_test::contains;
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

std::string fixture(const std::string& name) {
  return repro_test::slurp_file(std::string(REPRO_SOURCE_DIR) + "/tests/e2e/keras/" + name);
}

// `text` with `from` replaced by `to`, which must be there once.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

// The layer graph functional_resnet.json holds: a stem, a residual block whose shortcut is a 1x1
// convolution with stride 2, global average pooling and a softmax. Keras lists the shortcut's
// layers between the main branch's (by depth); they keep that order, naming what they take.
const char* kResnetModel = R"(
model:
  - conv2d: {name: conv2d, filters: 16, kernel_size: 3, padding: same, use_bias: false}
  - batch_normalization: {name: batch_normalization}
  - activation: {name: activation, activation: relu}
  - conv2d: {name: conv2d_1, filters: 32, kernel_size: 3, strides: 2, padding: same, use_bias: false}
  - batch_normalization: {name: batch_normalization_1}
  - activation: {name: activation_1, activation: relu}
  - conv2d: {name: conv2d_2, filters: 32, kernel_size: 3, padding: same, use_bias: false}
  - conv2d: {name: conv2d_3, filters: 32, kernel_size: 1, strides: 2, use_bias: false, inputs: [activation]}
  - batch_normalization: {name: batch_normalization_2, inputs: [conv2d_2]}
  - batch_normalization: {name: batch_normalization_3, inputs: [conv2d_3]}
  - add: {name: add, inputs: [batch_normalization_2, batch_normalization_3]}
  - activation: {name: activation_2, activation: relu}
  - global_average_pooling2d: {name: global_average_pooling2d}
  - dense: {name: dense, units: 10, activation: softmax}
)";

// functional_concat.json: a 3x3 and a 5x5 branch from the input, concatenated on the channels.
const char* kConcatModel = R"(
model:
  - conv2d: {name: conv3x3, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - conv2d: {name: conv5x5, filters: 4, kernel_size: 5, padding: same, activation: relu, inputs: [input]}
  - concatenate: {name: concatenate, axis: -1, inputs: [conv3x3, conv5x5]}
  - max_pooling2d: {name: max_pooling2d, pool_size: 2}
  - flatten: {name: flatten}
  - dense: {name: dense, units: 10, activation: softmax}
)";

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
  CHECK(r.err.find("layers[2] \"conv3d\" (Conv3D): this layer type is not supported") !=
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

TEST_CASE("repro import keras turns a Functional residual block into a layer graph that trains") {
  const auto dir = scratch_dir("import_functional");
  const std::string out = (dir / "resnet.yaml").string();
  auto r = run_repro("", "import keras tests/e2e/keras/functional_resnet.json --out '" + out + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = slurp_file(out);
  CHECK(contains(text, "(model resnet_block)"));
  CHECK(contains(text,
                 "  - conv2d: {name: conv2d_3, filters: 32, kernel_size: [1, 1], "
                 "strides: [2, 2], padding: valid, activation: linear, use_bias: false, "
                 "kernel_initializer: {name: glorot_uniform, seed: null}, "
                 "bias_initializer: {name: zeros}, inputs: [activation]}\n"));
  CHECK(contains(text,
                 "  - add: {name: add, inputs: [batch_normalization_2, "
                 "batch_normalization_3]}\n"));
  const repro::RunConfig imported = repro::parse_config(text, out);
  CHECK(model_keys(imported) == model_keys(repro::parse_config(kResnetModel, "expected")));

  const auto summary = run_repro("", "summary '" + out + "'");
  INFO(summary.out << summary.err);
  REQUIRE(summary.exit_code == 0);
  CHECK(contains(summary.out, "Connected to"));
  CHECK(contains(summary.out,
                 "\n conv2d_3 (Conv2D)                                  "
                 "(None, 14, 14, 32)        512       activation[0][0]\n"));
  CHECK(contains(summary.out,
                 "\n add (Add)                                          (None, 14, 14, 32)        "
                 "0         batch_normalization_2[0][0], batch_normalization_3[0][0]\n"));

  const std::string env = repro_test::data_env();
  if (!env.empty()) {
    const auto trained =
        run_repro(env, "train '" + out + "' --quiet --steps 2 --set data.limit=128 --out '" +
                           (dir / "run").string() + "'");
    INFO(trained.out << trained.err);
    CHECK(trained.exit_code == 0);
    CHECK(std::filesystem::exists(dir / "run" / "model.safetensors"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("repro import keras concatenates two Functional branches from the input") {
  const repro::RunConfig expected = repro::parse_config(kConcatModel, "expected");
  auto r = run_repro("", "import keras tests/e2e/keras/functional_concat.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(model_keys(repro::parse_config(r.out, "stdout")) == model_keys(expected));
  CHECK(contains(r.out,
                 "  - concatenate: {name: concatenate, axis: -1, inputs: [conv3x3, "
                 "conv5x5]}\n"));

  // tf.keras 2 writes each call as [[layer, node, tensor, kwargs], ...]: the same graph.
  auto legacy = run_repro("", "import keras tests/e2e/keras/functional_concat_tf_keras.json");
  INFO(legacy.out << legacy.err);
  REQUIRE(legacy.exit_code == 0);
  CHECK(model_keys(repro::parse_config(legacy.out, "stdout")) == model_keys(expected));
}

TEST_CASE("repro import keras refuses a shared layer, naming it") {
  auto r = run_repro("", "import keras tests/e2e/keras/functional_shared.json");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "repro: tests/e2e/keras/functional_shared.json: unsupported: layers[3] \"shared_dense\" "
        "(Dense): is called 2 times (a shared layer); repro takes each layer called once, with "
        "weights of its own\n");
}

TEST_CASE("repro import keras names every graph feature it does not take in one error") {
  const std::string concat = fixture("functional_concat.json");
  const auto dir = scratch_dir("import_graph_bad");
  auto import_text = [&](const std::string& text) {
    std::ofstream(dir / "m.json") << text;
    return run_repro("", "import keras '" + (dir / "m.json").string() + "'");
  };
  std::string bad = replaced(concat, R"("output_layers": ["dense", 0, 0])",
                             R"("output_layers": [["dense", 0, 0], ["max_pooling2d", 0, 0]])");
  // The concatenate called with an argument besides its inputs, on a second call of conv5x5.
  bad = replaced(bad, R"("keras_history": ["conv5x5", 0, 0]}}]], "kwargs": {})",
                 R"("keras_history": ["conv5x5", 1, 0]}}]], "kwargs": {"training": true})");
  auto r = import_text(bad);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err,
                 "m.json: unsupported: layers[3] \"concatenate\" (Concatenate): call "
                 "argument training true is not supported (repro calls a layer on its "
                 "inputs alone); "));
  CHECK(contains(r.err,
                 "; the model has 2 outputs (\"dense\", \"max_pooling2d\"); repro "
                 "trains one output, the last layer; "));
  CHECK(contains(r.err,
                 "; layers[3] \"concatenate\" (Concatenate): takes [\"conv5x5\", 1, 0]; "
                 "repro takes the one output of a layer called once ([\"conv5x5\", 0, "
                 "0])\n"));

  // A branch that reaches no output: the model's output is the pooling, so dense is left over.
  auto dead = import_text(replaced(concat, R"("output_layers": ["dense", 0, 0])",
                                   R"("output_layers": ["flatten", 0, 0])"));
  CHECK(dead.exit_code == 2);
  CHECK(contains(dead.err,
                 "unsupported: layers[6] \"dense\" (Dense): its output is taken by no "
                 "layer and is not the model's output; repro needs every branch to "
                 "reach the output\n"));

  // Two inputs.
  auto two = import_text(replaced(concat, R"("input_layers": ["image", 0, 0])",
                                  R"("input_layers": [["image", 0, 0], ["mask", 0, 0]])"));
  CHECK(contains(two.err,
                 "the model has 2 inputs (\"image\", \"mask\"); repro takes one "
                 "input, the images"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("repro import keras reads a Functional model from a .keras archive") {
  // model.save() writes config.json with the compile_config beside metadata.json and weights.
  std::string config = fixture("functional_resnet.json");
  REQUIRE(config.back() == '}');
  config.pop_back();
  config +=
      R"(, "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", )"
      R"("config": {"name": "adam", "learning_rate": 0.002, "weight_decay": null, "clipnorm": )"
      R"(null, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": )"
      R"(0.99, "ema_overwrite_frequency": null, "loss_scale_factor": null, )"
      R"("gradient_accumulation_steps": null, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, )"
      R"("amsgrad": false}, "registered_name": null}, "loss": "sparse_categorical_crossentropy", )"
      R"("loss_weights": null, "metrics": ["accuracy"], "weighted_metrics": null, )"
      R"("run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}})";
  const auto dir = scratch_dir("import_functional_archive");
  const auto archive = dir / "resnet.keras";
  repro_test::write_zip(
      archive, {{"metadata.json", R"({"keras_version": "3.6.0"})"}, {"config.json", config}});
  auto r = run_repro("", "import keras '" + archive.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const repro::RunConfig imported = repro::parse_config(r.out, "stdout");
  CHECK(model_keys(imported) == model_keys(repro::parse_config(kResnetModel, "expected")));
  CHECK(imported.training.optimizer.name == "adam");
  CHECK(imported.training.optimizer.learning_rate == 0.002);
  CHECK(imported.training.metrics == std::vector<std::string>{"accuracy"});
  std::filesystem::remove_all(dir);
}
