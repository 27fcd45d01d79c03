// The Keras export's layer order, without data: a layer graph's model.layers follow Keras's graph
// walk (keras_layer_order), which names the weights' H5 groups, whatever order the config lists
// the layers in; a list keeps its order. The reference is tests/e2e/keras/functional_resnet.json,
// whose layers Keras's Functional.get_config() wrote in model.layers order.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/config.h"
#include "keras/keras_export.h"
#include "keras/keras_weights.h"

namespace repro {
namespace {

// functional_resnet.json's graph, its layers listed in another order than Keras's: the shortcut
// (conv2d_3, batch_normalization_3) before the branch it skips.
const char* kShuffledResnet = R"(data: {dataset: mnist}
model:
  - conv2d: {name: conv2d, filters: 16, kernel_size: 3, padding: same, use_bias: false}
  - batch_normalization: {name: batch_normalization}
  - activation: {name: activation, activation: relu}
  - conv2d: {name: conv2d_3, filters: 32, kernel_size: 1, strides: 2, use_bias: false}
  - batch_normalization: {name: batch_normalization_3}
  - conv2d: {name: conv2d_1, filters: 32, kernel_size: 3, strides: 2, padding: same,
             use_bias: false, inputs: [activation]}
  - batch_normalization: {name: batch_normalization_1}
  - activation: {name: activation_1, activation: relu}
  - conv2d: {name: conv2d_2, filters: 32, kernel_size: 3, padding: same, use_bias: false}
  - batch_normalization: {name: batch_normalization_2}
  - add: {name: add, inputs: [batch_normalization_2, batch_normalization_3]}
  - activation: {name: activation_2, activation: relu}
  - global_average_pooling2d: {name: global_average_pooling2d}
  - dense: {name: dense, units: 10, activation: softmax}
)";

nlohmann::json fixture(const std::string& name) {
  std::ifstream in(std::string(REPRO_SOURCE_DIR) + "/tests/e2e/keras/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

std::vector<std::string> names_in_order(const RunConfig& config) {
  std::vector<std::string> names;
  for (const size_t i : keras_layer_order(config)) names.push_back(config.model[i].name);
  return names;
}

}  // namespace

TEST_CASE("a layer graph's weights follow Keras's model.layers order, not the config's") {
  const RunConfig config = parse_config(kShuffledResnet, "shuffled.yaml");
  const nlohmann::json keras_model = fixture("functional_resnet.json");
  std::vector<std::string> keras_order;
  for (const auto& layer : keras_model["config"]["layers"])
    if (layer["class_name"] != "InputLayer") keras_order.push_back(layer["name"]);
  CHECK(names_in_order(config) == keras_order);

  // Keras named the fixture's layers as it made them, in the same order as model.layers, so
  // each H5 group is the layer's own name here.
  const std::vector<std::string> paths = keras_layer_paths(config);
  for (size_t i = 0; i < config.model.size(); ++i) {
    INFO(config.model[i].name);
    CHECK(paths[i] == "layers/" + config.model[i].name);
  }
  CHECK(keras_model_name(config) == "functional");
  CHECK(keras_input_layer_name(config) == "input_layer");
}

TEST_CASE("a list keeps its order in Keras's layers, and the InputLayer's name stays unique") {
  const RunConfig list = parse_config(
      "data: {dataset: mnist}\n"
      "model:\n"
      "  - conv2d: {filters: 4, kernel_size: 3}\n"
      "  - conv2d: {filters: 4, kernel_size: 3, name: first}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 10, activation: softmax}\n",
      "list.yaml");
  CHECK(keras_layer_order(list) == std::vector<size_t>{0, 1, 2, 3});
  CHECK(keras_layer_paths(list) == std::vector<std::string>{"layers/conv2d", "layers/conv2d_1",
                                                            "layers/flatten", "layers/dense"});
  CHECK(keras_model_name(list) == "sequential");

  const RunConfig named = parse_config(
      "data: {dataset: mnist}\n"
      "model:\n"
      "  - conv2d: {filters: 4, kernel_size: 3, padding: same, name: input_layer}\n"
      "  - conv2d: {filters: 4, kernel_size: 3, padding: same, inputs: [input]}\n"
      "  - add: {inputs: [input_layer, conv2d]}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 10, activation: softmax}\n",
      "named.yaml");
  CHECK(keras_input_layer_name(named) == "input_layer_1");
  const std::string json = keras_model_config_json(named);
  CHECK(json.find("\"input_layers\":[\"input_layer_1\",0,0]") != std::string::npos);
  // The walk from the output reaches input_layer (the add's first input) before conv2d.
  CHECK(keras_layer_paths(named) == std::vector<std::string>{"layers/conv2d", "layers/conv2d_1",
                                                             "layers/add", "layers/flatten",
                                                             "layers/dense"});
}

}  // namespace repro
