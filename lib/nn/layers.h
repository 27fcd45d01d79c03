// Layers built from a LayerConfig over a Backend: they own shapes, parameters and gradients and
// build backend ops per batch size. They never see vendor types, YAML or file formats.
//
// Layer contract: forward(x, y) ASSIGNS y; backward(x, y, dy, dx) ASSIGNS dx (skipped when dx is
// null, i.e. for the first layer) and ASSIGNS every parameter gradient (the optimizer consumes it
// after each step, so nothing accumulates across steps). backward may overwrite dy as scratch and
// uses state of the last forward() on the same batch size (max-pool argmax, dropout key).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/config.h"

namespace repro {

// One sample's activation without the batch: an image (C, H, W), flat (F) (c = F, h = w = 1), or
// a sequence (T, F) held in Keras's order, time then features (c = F, h = T, w = 1, seq).
struct FeatureShape {
  int c = 0, h = 1, w = 1;
  bool flat = false;
  bool seq = false;
  size_t size() const { return static_cast<size_t>(c) * h * w; }
  bool image() const { return !flat && !seq; }
  std::string str() const;  // Keras order: "(30, 30, 32)", "(28, 28)" or "(64)"
};

// A weight tensor: value and gradient in backend memory and the backend's layout;
// keras_shape is the layout of exports (conv (kh, kw, in, out), dense (in, out), bias (out)).
// A non-trainable weight (batch norm's moving statistics) has no gradient (grad is empty).
struct Parameter {
  std::string name;            // "conv2d_1/kernel"
  std::vector<int64_t> shape;  // backend layout: conv (K, C, R, S), dense (OUT, IN), bias (OUT)
  std::vector<int64_t> keras_shape;
  Array value, grad;
  // (ceil(max_batch / 8), shape...): each chunk's gradient, unsummed, when the model was built
  // with chunk_grads (ranks sum them in chunk order); empty otherwise.
  Array chunk_grads;
  size_t size() const { return value.size(); }
};

// What a forward pass needs beyond its input: the mode and, for dropout, the key inputs.
struct ForwardContext {
  bool training = false;
  uint64_t seed = 0;        // the run seed
  int64_t global_step = 0;  // 0-based training step (dropout key)
  // The position of this call's first image in the whole batch: an augmentation draws for image
  // first_image + i, so a batch split over ranks draws what one process draws.
  int64_t first_image = 0;
  // Images in the whole batch when this call holds a rank's share of it (0: this call's n).
  int64_t batch_images = 0;
};

// Seconds spent per op kind ("conv fwd", "pool bwd", ...), summed over calls.
using OpTimes = std::map<std::string, double>;

class Layer {
 public:
  virtual ~Layer() = default;
  const std::string& name() const { return name_; }
  const FeatureShape& in_shape() const { return in_; }
  const FeatureShape& out_shape() const { return out_; }
  virtual std::vector<Parameter*> parameters() { return {}; }
  // Weights the optimizer does not train, after parameters() in Keras's weight order.
  virtual std::vector<Parameter*> non_trainable() { return {}; }
  // In evaluation the layer is the identity (dropout): the model skips it without copying.
  virtual bool identity_in_eval() const { return false; }
  // The op kind for profiling: "conv", "pool", "dense", "dropout", "flatten", "gap",
  // "activation", "batch_norm", "augment".
  virtual const char* kind() const = 0;
  // Image layers whose ops read and write channel blocks (conv, max pool, dropout on images).
  virtual bool takes_channel_blocks() const { return false; }
  // The channel blocks of x/dx and y/dy (1: plain NCHW); the model sets them before the first
  // forward, only where takes_channel_blocks().
  void set_channel_blocks(int in_block, int out_block) {
    in_block_ = in_block;
    out_block_ = out_block;
  }
  // Parameter gradients go to Parameter::chunk_grads, one row per 8-image chunk, unsummed; the
  // model sets it before the first forward when ranks split the batch. Every layer can: each
  // image's output depends on that image alone, or (batch norm) on the chunk sums exchanged.
  void set_chunk_grads(bool on) { chunk_grads_ = on; }
  // Layers whose training forward and backward sum over the whole batch (batch norm): with a
  // batch split over ranks, they get every chunk's sums through the exchange, and a rank without
  // images still calls forward and backward with n = 0 (and null tensors) so that every rank
  // makes the same exchanges.
  virtual bool exchanges_chunk_sums() const { return false; }
  void set_chunk_sum_exchange(ChunkSumExchange* exchange) { exchange_ = exchange; }

  // y (N, out) from x (N, in), both backend memory.
  virtual void forward(const float* x, float* y, int n, const ForwardContext& ctx) = 0;
  // dx (N, in) unless null, and parameter gradients, from x, y of forward and dy (N, out).
  virtual void backward(const float* x, const float* y, float* dy, float* dx, int n) = 0;

 protected:
  std::string name_;
  FeatureShape in_, out_;
  int in_block_ = 1, out_block_ = 1;
  bool chunk_grads_ = false;
  ChunkSumExchange* exchange_ = nullptr;
};

// Draws the Keras seed for each initializer: its own seed, else the run's seed stream.
struct InitSeeds {
  uint64_t run_seed = 0;
  RngKind rng = RngKind::jax;
  uint32_t next_unseeded = 0;  // k of the next unseeded random initializer (construction order)
};

// True for initializers that draw random numbers (and so consume a seed).
bool initializer_is_random(const std::string& name);

// Layout changes between Keras exports and the backend, chosen by rank: 4 is a conv kernel
// (kh, kw, in, out) <-> (K, C, R, S), 2 a dense kernel (in, out) <-> (OUT, IN), 1 a bias (same).
std::vector<float> keras_to_backend(const std::vector<float>& keras,
                                    const std::vector<int64_t>& keras_shape);
std::vector<float> backend_to_keras(const std::vector<float>& values,
                                    const std::vector<int64_t>& keras_shape);

// Keras's merge layers (Add, Subtract, Multiply, Average, Concatenate on the channel axis): several
// inputs of one shape (concatenate: differing in channels only), one output. The model calls
// merge_forward / merge_backward; the one-input forward and backward are not used.
class MergeLayer : public Layer {
 public:
  MergeLayer(const LayerConfig& config, const std::vector<FeatureShape>& ins,
             const FeatureShape& out, Backend& backend);
  const char* kind() const override { return "merge"; }
  void forward(const float*, float*, int, const ForwardContext&) override;
  void backward(const float*, const float*, float*, float*, int) override;
  // y (N, out) from xs[k] (N, ins[k]); dxs[k] (each may be null) from dy.
  void merge_forward(const std::vector<const float*>& xs, float* y, int n);
  void merge_backward(const std::vector<const float*>& xs, const float* dy,
                      const std::vector<float*>& dxs, int n);

 private:
  Backend& backend_;
  LayerKind merge_;
  std::vector<FeatureShape> ins_;
};

// A sample's shape from Keras's dimensions: (F) flat, (T, F) a sequence, (H, W, C) an image.
FeatureShape feature_shape(const std::vector<int64_t>& keras_dims);

// Builds layer `index` (0-based in the model) from input `in` to output `out`, the shapes that
// infer_shapes() gave the config (the one shape inference; layers never size their output).
// `last` marks the final layer (the only place softmax is allowed). Throws InputError with the
// layer's config place.
std::unique_ptr<Layer> make_layer(const LayerConfig& config, int index, bool last,
                                  const FeatureShape& in, const FeatureShape& out, Backend& backend,
                                  InitSeeds& seeds);

}  // namespace repro
