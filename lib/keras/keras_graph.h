// The call graph of a Keras Functional model's config (inbound_nodes, input_layers and
// output_layers, as Keras 3 or tf.keras 2 writes them) in the form repro's layer graph takes: one
// input, one output, each layer called once, every branch reaching the output. It reads no
// layer's arguments; converting each layer is keras_import's.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repro {

// One layer of the graph: its index in config.layers, and the names of the layers it takes
// (`input` for the model's input), empty where it takes the layer placed just before it.
struct KerasGraphStep {
  size_t layer = 0;
  std::vector<std::string> inputs;
};

// A Functional layer's name: Keras 3 writes it beside inbound_nodes and in the config, tf.keras 2
// in the config; "" where neither is there.
std::string keras_layer_name(const nlohmann::ordered_json& layer);

// How import messages name a layer: `layers[3] "add" (Add)`.
std::string keras_layer_where(size_t index, const std::string& name, const std::string& class_name);

// The model's layers but its InputLayer, each after the layers it takes and otherwise in Keras's
// order (Keras lists them so already). What repro's graph cannot hold goes to `unsupported`, each
// item naming its layer; the result is empty then.
std::vector<KerasGraphStep> keras_functional_order(const nlohmann::ordered_json& model,
                                                   std::vector<std::string>& unsupported);

}  // namespace repro
