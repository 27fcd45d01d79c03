// A model's weights (and optimizer state) in the HDF5 layout Keras 3 saves and loads
// (model.save_weights("x.weights.h5"), and model.weights.h5 inside a .keras archive), as
// keras/src/saving/saving_lib.py writes it (_save_state walks the model, _walk_saveable yields
// its `layers` first, _save_container_state names each by its class):
//   vars                      the model's own (none), attribute name "sequential" or "functional"
//   layers/<class>/vars/<i>   each layer of model.layers, in that order, with its variables in
//                             Keras order (kernel, bias; gamma, beta, moving_mean,
//                             moving_variance); <class> is the snake_case class name made unique
//                             in layer order (conv2d, conv2d_1, ...), never the layer's own name;
//                             layers without weights have an empty vars. A recurrent layer's
//                             variables are its cell's: layers/<class>/cell/vars/<i> (the
//                             group named lstm_cell, gru_cell or simple_rnn_cell) beside the
//                             layer's own empty vars. A Sequential model's
//                             layers are the config's; a Functional model's (a layer graph) start
//                             with its InputLayer (layers/input_layer) and follow Keras's graph
//                             order (keras_layer_order), not the config's
//   optimizer/vars/<i>        iteration (int64), learning_rate (float32, absent with a schedule),
//                             then the slots: Adam and AdamW per parameter (momentum, velocity);
//                             SGD the momenta; RMSprop all velocities, then momenta, then
//                             average gradients, each over the trainable parameters in
//                             model.layers order
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/named_tensor.h"

namespace repro {

// The optimizer's state as Keras holds it. `slots` are named "<param>/<slot>" (Keras's slot
// names: momentum, velocity, average_gradient) in Keras layout.
struct KerasOptimizerState {
  int64_t iterations = 0;
  std::optional<float> learning_rate;  // the current constant rate; none with a schedule
  std::vector<NamedTensor> slots;
};

// The config's layers (indices into config.model) in the order of Keras's model.layers, less a
// Functional model's InputLayer. A Sequential model keeps the config's order; a layer graph takes
// the order keras/src/ops/function.py's map_graph gives the Functional model Keras builds from
// the exported config: a depth-first walk from the output through each layer's inputs in call
// order numbers the layers as first reached, a layer's depth is its longest path to the output,
// and the layers go deepest first, ties by that number.
std::vector<size_t> keras_layer_order(const RunConfig& config);

// Each layer's H5 path ("layers/conv2d_1"), indexed as config.model; the names are made unique in
// keras_layer_order.
std::vector<std::string> keras_layer_paths(const RunConfig& config);

// The .weights.h5 file's bytes. `weights` in Keras layout, named "<layer>/<variable>" as a run's
// model.safetensors; `optimizer` may be null (no optimizer/ group: Keras then keeps its fresh
// state and warns). InputError naming a weight or slot that is missing.
std::string keras_weights_h5(const RunConfig& config, const std::vector<NamedTensor>& weights,
                             const KerasOptimizerState* optimizer);

// The weights of `config`'s model from a Keras .weights.h5 or .keras file (its model.weights.h5),
// checked against `expected` (the model's names and Keras shapes; their values are ignored)
// before any value is read, and returned under those names. One-line InputError naming the file
// and the layer for a file that is not HDF5 or zip, a layer with another number of variables, or a
// variable of another shape. The file is read whole, at most 4 GiB.
std::vector<NamedTensor> read_keras_weights(const std::string& path, const RunConfig& config,
                                            const std::vector<NamedTensor>& expected);
// The same over bytes already read (the fuzz target's entry).
std::vector<NamedTensor> keras_weights_from_bytes(std::string_view bytes,
                                                  const std::string& file_label,
                                                  const RunConfig& config,
                                                  const std::vector<NamedTensor>& expected);

}  // namespace repro
