// A Keras Sequential model over a Backend: layers from the config, activation and gradient
// buffers for one batch size (smaller batches use a prefix), forward, backward, weight export.
// It does not compute the loss or update weights: the trainer and the optimizer do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/config.h"
#include "core/named_tensor.h"
#include "nn/layers.h"

namespace repro {

class Model {
 public:
  // Builds the layers of config.model and draws their weights (seeds from config.seed / rng).
  // `max_batch` sizes the buffers (the training batch size). With `chunk_grads`, backward()
  // leaves each 8-image chunk's parameter gradients in Parameter::chunk_grads, unsummed.
  // Throws InputError for a model that does not fit its input or uses an unsupported combination.
  Model(const RunConfig& config, Backend& backend, int max_batch, bool chunk_grads = false);

  int max_batch() const { return max_batch_; }
  int classes() const { return classes_; }
  const FeatureShape& input_shape() const { return input_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  // Every trainable parameter, layer by layer, kernel before bias.
  const std::vector<Parameter*>& parameters() const { return parameters_; }
  // Every weight in Keras's order: layer by layer, its trainable then non-trainable ones.
  const std::vector<Parameter*>& weights() const { return weights_; }

  // Logits (N, classes) in backend memory from host images x (N, C, H, W); valid until the
  // next forward(). In training mode dropout is applied with the context's key.
  const float* forward(const float* x_host, int n, const ForwardContext& ctx);
  // The buffer (N, classes) where the loss writes dL/dlogits before backward().
  float* dlogits() { return grads_.back().data(); }
  // Assigns every parameter's gradient (or its chunk gradients) from dlogits, for the last
  // training forward() of n.
  void backward(int n);

  // A batch split over ranks: the layers that sum over the whole batch (batch norm) get the other
  // ranks' chunk sums through `exchange` in training. A rank whose share of a batch is empty
  // calls join_exchanges() in place of forward() and backward(): those layers make their
  // exchanges (and update their moving statistics) with no images.
  void set_chunk_sum_exchange(ChunkSumExchange* exchange);
  void join_exchanges(const ForwardContext& ctx);

  // Layer i's output (N, out_i) and its gradient from the last training step, in backend memory
  // and plain layout (for the divergence trace; the gradient may have been used as scratch by
  // the layer). A blocked buffer is converted into a scratch copy, valid until the next call.
  const float* layer_output(size_t i) const { return plain(acts_[i + 1], i + 1, output_view_); }
  const float* layer_output_grad(size_t i) const { return plain(grads_[i + 1], i + 1, grad_view_); }
  // Whether backward() computes layer i's output gradient: only where some parameter lies on a
  // path into that output (nothing reads the others, so no layer computes them).
  bool output_grad_computed(size_t i) const { return grad_needed_[i + 1]; }
  // The channel block of layer i's input (1: plain), chosen at construction.
  int channel_block(size_t i) const { return blocks_[i]; }

  // Weights in Keras layout, in weights() order; import checks names and shapes.
  std::vector<NamedTensor> export_weights() const;
  void import_weights(const std::vector<NamedTensor>& tensors);

  // Seconds per op kind and direction ("conv fwd", "dense bwd", "upload") over the training
  // passes since construction (evaluation passes are not counted).
  const OpTimes& op_times() const { return op_times_; }

 private:
  Backend& backend_;
  int max_batch_ = 0;
  int classes_ = 0;
  FeatureShape input_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Parameter*> parameters_;
  std::vector<Parameter*> weights_;
  // Tensor t is the model's input (t = 0) or layer t - 1's output.
  std::vector<Array> acts_;               // acts_[t]: tensor t (N, size); acts_.back(): logits
  std::vector<Array> grads_;              // grads_[t]: dL/d acts_[t]; grads_[0] unused (empty)
  bool graph_ = false;                    // some layer names its inputs
  std::vector<std::vector<int>> inputs_;  // per layer: the layers it takes (-1: the input)
  std::vector<Array> scratch_;            // graphs: later gradients of a shared output
  // grad_needed_[t]: some parameter lies on a path from the input into tensor t, so backward
  // computes dL/dt; a layer whose output needs none is skipped in backward.
  std::vector<bool> grad_needed_;
  // blocks_[i]: the channel block of acts_[i] and grads_[i]: the backend's channel_block(C)
  // between two layers that take channel blocks, else 1 (plain).
  std::vector<int> blocks_;
  mutable Array output_view_, grad_view_;  // plain copies for layer_output(_grad)
  const float* plain(const Array& a, size_t boundary, Array& view) const;
  int last_train_n_ = -1;
  OpTimes op_times_;
};

}  // namespace repro
