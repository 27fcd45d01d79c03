// A run's model in Keras 3's own saving format (keras/src/saving/saving_lib.py), the inverse of
// keras_import: config.json as serialize_keras_object writes a Sequential model, or a Functional
// one for a layer graph (an InputLayer of the preprocessed input's shape, every layer's full
// config with Keras's defaults, the build_config and the compile_config: optimizer with its
// arguments or schedule, loss, metrics; a Functional model's layers also carry their call,
// inbound_nodes, as keras/src/models/functional.py's get_config and serialize_node write it), and
// the .keras archive: a stored zip of metadata.json, config.json and model.weights.h5.
// The model takes what repro's pipeline feeds it: float images scaled to [0, 1] and resized.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/named_tensor.h"
#include "keras/keras_weights.h"

namespace repro {

// The Keras version whose saving format these files follow (metadata.json's keras_version).
inline constexpr const char* kKerasFormatVersion = "3.16.0";

// InputError for what a Keras config cannot name (gelu_approximate), naming the layer.
void require_keras_exportable(const RunConfig& config);

// The model's name in config.json and the weights' root `vars`: Keras's automatic names,
// "functional" for a layer graph (written as keras.Model(inputs, outputs)), else "sequential".
std::string keras_model_name(const RunConfig& config);

// A Functional model's InputLayer name: Keras's "input_layer", or input_layer_1, ... where a layer
// of the config already has it (a Keras model's names are unique).
std::string keras_input_layer_name(const RunConfig& config);

// config.json's text.
std::string keras_model_config_json(const RunConfig& config);

// The .keras archive's bytes. `date_saved` goes to metadata.json as Keras writes it
// ("%Y-%m-%d@%H:%M:%S"); the caller passes the run's own time so the same run exports the same
// bytes.
std::string keras_archive(const RunConfig& config, const std::vector<NamedTensor>& weights,
                          const KerasOptimizerState* optimizer, const std::string& date_saved);

}  // namespace repro
