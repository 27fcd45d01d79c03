// The op interface every backend implements: reference (naive loops, the oracle), onednn (CPU),
// cudnn (GPU). Backends own kernels and memory; they never see YAML, seeds or layers.
//
// Layout at this interface is plain: activations NCHW, conv weights (K, C, R, S), dense weights
// (OUT, IN); a backend may use other layouts inside an op. One exception, asked for explicitly:
// between two image ops (conv, max pool, image dropout) an activation and its gradient may stay
// in channel blocks of b = channel_block(C), i.e. (N, C/b, H, W, b), where the backend's kernels
// run without a layout change; the geometries and image_dropout_* say which layout each side has.
// Every float* argument points to memory from this backend's alloc() (device memory for CUDA).
//
// Gradient contract: every op ASSIGNS its outputs (dx, dw, db); nothing accumulates. An op
// object is built once per geometry and replayed; backward() may use state saved by the last
// forward() of the same object (e.g. max-pool indices) and may overwrite `dy` as scratch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/chunk.h"
#include "core/error.h"
#include "rng/seed_stream.h"

namespace repro {

// n floats of backend memory; copies share it, the backend's deleter frees it.
class Array {
 public:
  Array() = default;
  Array(std::shared_ptr<float> ptr, size_t n) : ptr_(std::move(ptr)), n_(n) {}
  float* data() const { return ptr_.get(); }
  size_t size() const { return n_; }

 private:
  std::shared_ptr<float> ptr_;
  size_t n_ = 0;
};

struct ConvGeometry {
  int n = 0, c = 0, h = 0, w = 0;  // input (N, C, H, W)
  int k = 0, r = 0, s = 0;         // filters K, kernel R x S
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int oh = 0, ow = 0;  // output (N, K, OH, OW)
  bool bias = true;
  bool relu = false;             // y = relu(conv + b) when set
  int x_block = 1, y_block = 1;  // channel blocks of x and dx, of y and dy (1: plain)
  bool chunk_grads = false;      // dw (ceil(N/8), K,C,R,S), db (ceil(N/8), K): per chunk
  // make_depthwise_conv2d: k = c * depth_multiplier; output channel c * DM + m filters input
  // channel c alone with w (DM, C, R, S) (dw per chunk: (ceil(N/8), DM,C,R,S)).
  int depth_multiplier = 0;
};

struct PoolGeometry {
  int n = 0, c = 0, h = 0, w = 0;  // input (N, C, H, W)
  int r = 2, s = 2;                // window
  int stride_h = 2, stride_w = 2;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // padded cells never win
  int oh = 0, ow = 0;                                            // output (N, C, OH, OW)
  int x_block = 1, y_block = 1;  // channel blocks of x and dx, of y and dy (1: plain)
};

// Gathers per-chunk batch sums from every process of a data-parallel step: `local` holds this
// process's chunks in order, (chunks, width) doubles; the result holds every chunk of the whole
// batch, in chunk order. Every process calls it the same number of times, in the same order.
class ChunkSumExchange {
 public:
  virtual ~ChunkSumExchange() = default;
  virtual std::vector<double> all_chunks(const std::vector<double>& local, size_t width) = 0;
};

// Batch normalization over x (N, C, HW) per channel (HW = 1 for a flat (N, C) input).
struct BatchNormGeometry {
  int n = 0, c = 0, hw = 1;
  float epsilon = 1e-3f;
  float momentum = 0.99f, one_minus_momentum = 0.01f;  // 1 - momentum rounded from double, as Keras
  // A batch split over processes: x holds this process's n images (whole chunks, maybe none) of
  // a batch of `batch` images, whose statistics come from every process's chunk sums through
  // `exchange`. batch 0: x is the whole batch (no exchange).
  int batch = 0;
  ChunkSumExchange* exchange = nullptr;
  bool chunk_grads = false;  // dgamma, dbeta (ceil(n/8), C): each of this process's chunks' sum
};

// Keras's recurrent layers over x (N, T, F), each image's sequence in Keras's order (time, then
// features). Weights in the dense layout (OUT, IN): kernel (G * U, F), recurrent kernel (G * U, U),
// bias (G * U), the G gate blocks in Keras's order (LSTM: i, f, c, o; GRU: z, r, h; SimpleRNN:
// one). GRU with reset_after has an input and a recurrent bias, Keras's (2, 3U) held as
// (3U, 2): unit j's input bias at [2j], its recurrent bias at [2j + 1].
enum class RnnCell { simple, lstm, gru };
enum class RnnActivation { tanh, sigmoid, relu, linear, hard_sigmoid };
struct RecurrentGeometry {
  RnnCell cell = RnnCell::lstm;
  int n = 0, t = 0, f = 0, u = 0;  // images, timesteps, features in, units
  bool bias = true;
  bool go_backwards = false;      // steps run from the last timestep to the first
  bool return_sequences = false;  // y (N, T, U) in step order, else the last step's (N, U)
  RnnActivation activation = RnnActivation::tanh;
  RnnActivation recurrent_activation = RnnActivation::sigmoid;  // LSTM's and GRU's gates
  bool reset_after = true;                                      // GRU: r applied after U_h
  // Dropout masks (values 0 or 1 / (1 - rate)), drawn once per sequence: input_masks of them
  // (N, F) each, recurrent_masks (N, U) each; 0: none, 1: one for every gate, G: one per gate.
  int input_masks = 0, recurrent_masks = 0;
  bool chunk_grads = false;  // weight gradients (ceil(N/8), ...): each 8-image chunk's sum
  int gates() const { return cell == RnnCell::lstm ? 4 : cell == RnnCell::gru ? 3 : 1; }
  // Floats a training forward keeps per (image, step) for the backward: LSTM its four gate
  // activations, c and h; GRU z, r, the candidate, h and its recurrent product; SimpleRNN h.
  int saved_per_step() const {
    return cell == RnnCell::lstm ? 6 * u : cell == RnnCell::gru ? 5 * u : u;
  }
  // GRU's reset_after with a bias: two bias values per unit.
  bool two_biases() const { return cell == RnnCell::gru && reset_after && bias; }
};

// Keras's Embedding: ids (N, T), whole numbers in [0, V) (the layer checks them), each pick a
// column of the table, held (F, V) like a dense kernel (OUT, IN): y (N, T, F), y[b, t, :] =
// table[:, id]. chunk_grads: dtable is (ceil(N/8), F, V), each chunk's sum unsummed.
struct EmbeddingGeometry {
  int n = 0, t = 0, f = 0, v = 0;  // images, ids per image, output_dim, input_dim
  bool chunk_grads = false;
};

// Keras's LayerNormalization over the channel axis: x (N, C, HW), each (image, position) normalized
// over its C values. chunk_grads: dgamma / dbeta are (ceil(N/8), C), each chunk's sum unsummed.
struct LayerNormGeometry {
  int n = 0, c = 0, hw = 1;
  float epsilon = 1e-3f;
  bool chunk_grads = false;
};

// A per-image affine resampling of (N, C, H, W) images (Keras's image.affine_transform): output
// pixel (row y, column x) reads the input at column a0 x + a1 y + a2, row b0 x + b1 y + b2.
enum class FillMode { reflect, wrap, constant, nearest };
enum class Interpolation { bilinear, nearest };
struct AffineGeometry {
  int n = 0, c = 0, h = 0, w = 0;
  FillMode fill = FillMode::reflect;  // reflect: (d c b a | a b c d | d c b a), as Keras
  Interpolation interpolation = Interpolation::bilinear;
  float fill_value = 0.0f;  // FillMode::constant
};

// The element-wise activations. Keras 3's activations as its JAX backend computes them (jax.nn):
// elu(x) = x > 0 ? x : expm1(x) (alpha 1), leaky_relu(x) = x >= 0 ? x : 0.2 x (keras.activations'
// negative_slope), softplus(x) = max(x, 0) + log1p(exp(-|x|)) (logaddexp(x, 0)), hard_sigmoid(x)
// = min(max(x + 3, 0), 6) / 6, gelu(x) = 0.5 x erfc(-x sqrt(1/2)) (keras.activations.gelu's
// default approximate=False), gelu_approximate(x) = x 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// (approximate=True), silu(x) = x sigmoid(x) (swish). The gradient of the last three needs the
// input x; the others' is written through the output y.
enum class ActivationFn {
  relu,
  sigmoid,
  tanh,
  elu,
  leaky_relu,
  softplus,
  hard_sigmoid,
  gelu,
  gelu_approximate,
  silu
};
// True for the activations whose gradient reads the input x (gelu, gelu_approximate, silu): a
// layer that applies one in place keeps its input for the backward pass.
inline bool activation_grad_needs_input(ActivationFn f) {
  return f == ActivationFn::gelu || f == ActivationFn::gelu_approximate || f == ActivationFn::silu;
}
inline constexpr float kLeakyReluSlope = 0.2f;
// gelu's constants as jax.nn.gelu rounds them to float32: sqrt(1/2), sqrt(2/pi), 0.044715; and
// 1/sqrt(2 pi) for the exact form's gradient.
inline constexpr float kSqrtHalf = 0.70710678118654752f;
inline constexpr float kSqrt2OverPi = 0.79788456080286536f;
inline constexpr float kGeluCubic = 0.044715f;
inline constexpr float kInvSqrt2Pi = 0.39894228040143268f;

struct DenseGeometry {
  int n = 0, in = 0, out = 0;  // x (N, IN), w (OUT, IN), b (OUT), y (N, OUT)
  bool bias = true;
  bool relu = false;
  bool chunk_grads = false;  // dw (ceil(N/8), OUT,IN), db (ceil(N/8), OUT): per chunk
};

// An op with a weight and an optional bias, built for one geometry: conv2d and dense.
//   conv2d: y = act(conv(x, w) + b): x (N,C,H,W), w (K,C,R,S), b (K) or null, y (N,K,OH,OW)
//   dense:  y = act(x w^T + b):      x (N,IN),    w (OUT,IN),  b (OUT) or null, y (N,OUT)
class WeightedOp {
 public:
  virtual ~WeightedOp() = default;
  virtual void forward(const float* x, const float* w, const float* b, float* y) = 0;
  // From x, w, y (of forward) and dy = dL/dy (which it may overwrite): dx unless null, dw, and
  // db unless null, each shaped as x, w and b.
  virtual void backward(const float* x, const float* w, const float* y, float* dy, float* dx,
                        float* dw, float* db) = 0;
};
using Conv2dOp = WeightedOp;
using DenseOp = WeightedOp;

class MaxPool2dOp {
 public:
  virtual ~MaxPool2dOp() = default;
  // y (N,C,OH,OW) = window max of x (N,C,H,W); ties go to the first element in row-major order.
  virtual void forward(const float* x, float* y) = 0;
  // dx (N,C,H,W) = dy routed to the argmax of the last forward() on this object.
  virtual void backward(const float* dy, float* dx) = 0;
};

struct AdamParams {
  float learning_rate = 0.001f, beta_1 = 0.9f, beta_2 = 0.999f, epsilon = 1e-7f;
  int64_t step = 1;  // 1-based iteration t after this update
};

struct SgdParams {
  float learning_rate = 0.01f, momentum = 0.0f;
  bool nesterov = false;
};

struct RmspropParams {
  float learning_rate = 0.001f, rho = 0.9f, momentum = 0.0f, epsilon = 1e-7f;
  bool centered = false;
};

// Sums over one batch, reduced in a fixed order on every backend.
struct LossSums {
  double loss = 0;      // sum over the batch of per-sample cross-entropy
  int64_t correct = 0;  // samples whose argmax equals the label
};

// The ops a backend may leave out. Every CPU backend runs them all (HostBackend); a GPU backend
// says which it runs, and the model and the optimizer refuse a config that needs another one
// before training starts (nn/layers.cpp, optim/optimizer.cpp), naming the layer.
enum class OptionalOp {
  activation,
  avg_pool2d,
  batch_norm,
  affine,
  rmsprop,
  weight_decay,
  merge,
  global_max_pool,
  zero_padding,
  layer_norm,
  depthwise_conv,
  recurrent,
  permute,
  embedding,
};

// Keras's element-wise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum).
enum class MergeFn { add, subtract, multiply, average, maximum, minimum };
// "activation layers", "average_pooling2d", ...: for messages.
std::string optional_op_name(OptionalOp op);

// How ops are called: conv2d, max pooling and dense are objects built once per geometry (they
// may keep plans, workspaces or masks between forward and backward); every other op is a
// per-call method that keeps nothing between calls (oneDNN's dropout masks are a cache only).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;      // one of backend_names()
  virtual std::string describe() const = 0;  // versions, ISA / GPU, for run.json

  virtual Array alloc(size_t n) = 0;  // zero-filled
  // Whether this backend runs `op` (the methods below that throw by default).
  virtual bool supports(OptionalOp op) const { return false; }
  // Whether conv and dense ops take chunk_grads: each chunk's weight gradient unsummed, exactly
  // the terms (in float) that the op sums in chunk order otherwise. Ranks need it.
  virtual bool chunk_grads_supported() const { return false; }

  // The channel block b this backend's image ops run fastest on for c channels: 1 (plain NCHW,
  // the default) or a divisor of c; activations between two image ops are then (N, C/b, H, W, b).
  virtual int channel_block(int c) const { return 1; }
  virtual void upload(const float* host, float* dst, size_t n) = 0;
  virtual void download(const float* src, float* host, size_t n) = 0;

  virtual std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) = 0;
  virtual std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) = 0;
  virtual std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) = 0;
  // Keras's DepthwiseConv2D (ConvGeometry::depth_multiplier), a WeightedOp like conv2d (relu
  // fused when g.relu). Optional (OptionalOp::depthwise_conv).
  virtual std::unique_ptr<Conv2dOp> make_depthwise_conv2d(const ConvGeometry& g) {
    throw InputError(name() + " backend: depthwise_conv2d is not supported");
  }

  // y (N,C) = mean over H*W of x (N,C,H,W), and its gradient dx = dy / (H*W) broadcast.
  virtual void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) = 0;
  virtual void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) = 0;

  // Keras flattens (H, W, C): y (N, HW*C) = x (N, C, HW) transposed per image, and back.
  virtual void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) = 0;
  virtual void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) = 0;

  // Inverted dropout over `count` elements: y = keep(i) ? x / (1 - rate) : 0, where
  // keep(i) = dropout_keep(key, i, rate) (rng/seed_stream.h), the same on every backend.
  virtual void dropout_forward(const float* x, float* y, size_t count, StreamKey key,
                               float rate) = 0;
  virtual void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                                float rate) = 0;
  // The same dropout on an image (N, C, HW) held in channel blocks of `block`: every value gets
  // the keep bit of its plain NCHW index, so the result is dropout_forward's, permuted. The
  // default serves backends whose channel_block() is always 1.
  // Defined here, not in backend.cpp, so the class has no out-of-line member: the cuDNN module
  // (which links no backend.cpp) then gets the vtable and typeinfo it needs.
  virtual void image_dropout_forward(const float* x, float* y, int n, int c, int hw, int block,
                                     StreamKey key, float rate) {
    REPRO_CHECK(block == 1, name() + " backend: dropout on channel blocks is not supported");
    dropout_forward(x, y, size_t(n) * c * hw, key, rate);
  }
  virtual void image_dropout_backward(const float* dy, float* dx, int n, int c, int hw, int block,
                                      StreamKey key, float rate) {
    REPRO_CHECK(block == 1, name() + " backend: dropout on channel blocks is not supported");
    dropout_backward(dy, dx, size_t(n) * c * hw, key, rate);
  }

  // Keras's merge layers over `count` elements of each input, in input order: add, multiply,
  // maximum and minimum fold left (((x0 + x1) + x2) ...), subtract is x0 - x1, average the add's
  // sum / inputs. merge_backward assigns each non-null dxs[k] = dL/dxs[k] (multiply: dy times the
  // product of the other inputs, folded left; average: dy / inputs; maximum and minimum: back
  // through each fold step with JAX's rule for max, a tie sending half of the gradient to each
  // side). The defaults throw.
  virtual void merge_forward(MergeFn f, const std::vector<const float*>& xs, float* y,
                             size_t count) {
    throw InputError(name() + " backend: merge layers are not supported");
  }
  virtual void merge_backward(MergeFn f, const std::vector<const float*>& xs, const float* dy,
                              const std::vector<float*>& dxs, size_t count) {
    throw InputError(name() + " backend: merge layers are not supported");
  }
  // Concatenation on the channel axis of plain (n, channels[k], hw) inputs into (n, sum, hw),
  // and its gradient split back (non-null dxs only).
  virtual void concat_forward(const std::vector<const float*>& xs, const std::vector<int>& channels,
                              int n, int hw, float* y) {
    throw InputError(name() + " backend: concatenate is not supported");
  }
  virtual void concat_backward(const float* dy, const std::vector<float*>& dxs,
                               const std::vector<int>& channels, int n, int hw) {
    throw InputError(name() + " backend: concatenate is not supported");
  }
  // Keras's GlobalMaxPooling2D on plain (n, c, hw): y (n, c) the maximum of each plane; the
  // gradient, as jax's reduce_max, shared equally by every cell that holds the maximum.
  virtual void global_max_pool_forward(const float* x, float* y, int n, int c, int hw) {
    throw InputError(name() + " backend: global_max_pooling2d is not supported");
  }
  virtual void global_max_pool_backward(const float* x, const float* y, const float* dy, float* dx,
                                        int n, int c, int hw) {
    throw InputError(name() + " backend: global_max_pooling2d is not supported");
  }
  // Keras's ZeroPadding2D on plain (n, c, h, w): `pad` = {top, bottom, left, right} rows and
  // columns of zeros; backward crops dy back to dx.
  virtual void zero_pad2d_forward(const float* x, float* y, int n, int c, int h, int w,
                                  const std::array<int, 4>& pad) {
    throw InputError(name() + " backend: zero_padding2d is not supported");
  }
  virtual void zero_pad2d_backward(const float* dy, float* dx, int n, int c, int h, int w,
                                   const std::array<int, 4>& pad) {
    throw InputError(name() + " backend: zero_padding2d is not supported");
  }

  // dst += src, element by element: a gradient that reaches a layer's output from a second (or
  // later) consumer.
  virtual void accumulate(float* dst, const float* src, size_t count) {
    throw InputError(name() + " backend: layer graphs are not supported");
  }

  // Element-wise y = f(x) over `count` elements (y may be x); relu(x) = x > 0 ? x : 0,
  // sigmoid(x) = 1 / (1 + exp(-x)), tanh. The defaults throw: a backend without them cannot run
  // models that use them.
  virtual void activation_forward(ActivationFn f, const float* x, float* y, size_t count) {
    throw InputError(name() + " backend: activation layers are not supported");
  }
  // dx = dy * f'(x) from the forward's input x and output y: relu (y > 0), sigmoid y (1 - y),
  // tanh 1 - y^2, elu (y > 0 ? 1 : y + 1), leaky_relu (y >= 0 ? 1 : 0.2), softplus 1 - exp(-y)
  // (its sigmoid), hard_sigmoid (0 < y < 1 ? 1/6 : 0, relu6's zero at the ends) read y alone;
  // gelu, gelu_approximate and silu read x alone (the other may then be null). dx may be dy.
  virtual void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy,
                                   float* dx, size_t count) {
    throw InputError(name() + " backend: activation layers are not supported");
  }

  // Average pooling on plain (N, C, H, W): y (N,C,OH,OW) is the mean of each window's cells
  // inside the image (padded cells are not counted, as Keras's padding: same), and its gradient
  // dx (N,C,H,W) = each window's dy shared equally among its cells, summed in output order.
  virtual void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
    throw InputError(name() + " backend: average_pooling2d is not supported");
  }
  virtual void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) {
    throw InputError(name() + " backend: average_pooling2d is not supported");
  }

  // Batch normalization, Keras 3 formulas: y = x * inv + (beta - mean * inv) with
  // inv = gamma / sqrt(var + eps). Training uses the batch's mean and (biased) variance, summed
  // per channel over chunks of 8 images in chunk order, then moving = moving * momentum +
  // batch * (1 - momentum); saved_mean / saved_inv_std (C) keep the batch's mean and
  // 1 / sqrt(var + eps) for the backward. Inference uses the moving statistics and changes
  // nothing. gamma / beta null mean 1 / 0 (scale / center off).
  virtual void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                                  const float* gamma, const float* beta, float* moving_mean,
                                  float* moving_variance, float* saved_mean, float* saved_inv_std,
                                  float* y) {
    throw InputError(name() + " backend: batch_normalization is not supported");
  }
  // The training forward's gradient: dx (N, C, HW) unless null, dgamma / dbeta (C) unless null.
  // Each batch sum is a double sum per chunk; dx folds them in chunk order in double, dgamma and
  // dbeta round each chunk's to float and fold those in chunk order in float (the rule of every
  // parameter gradient, which a rank split reproduces from chunk_grads).
  virtual void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                                   const float* saved_mean, const float* saved_inv_std,
                                   const float* dy, float* dx, float* dgamma, float* dbeta) {
    throw InputError(name() + " backend: batch_normalization is not supported");
  }

  // Layer normalization (LayerNormGeometry), keras.ops.layer_normalization's formula: per
  // (image, position), mean and variance (two passes, 1/C) of its C values in double, rounded;
  // inv_std = 1 / sqrt(variance + epsilon); then in float, per channel, inv = inv_std * gamma,
  // y = x * inv + (-mean * inv + beta). saved_mean / saved_inv_std (N * HW) keep them for the
  // backward. gamma / beta null mean 1 / 0 (scale / center off). The same in training and
  // evaluation.
  virtual void layer_norm_forward(const LayerNormGeometry& g, const float* x, const float* gamma,
                                  const float* beta, float* saved_mean, float* saved_inv_std,
                                  float* y) {
    throw InputError(name() + " backend: layer_normalization is not supported");
  }
  // dx (N, C, HW) unless null: per (image, position), in double, with xhat = (x - mean) inv_std
  // and g = dy gamma, dx = inv_std (g - mean(g) - xhat mean(g xhat)); dgamma = sum dy xhat and
  // dbeta = sum dy (C) unless null: each chunk of 8 images summed in double (images, then
  // positions), rounded, and the chunk sums folded in chunk order in float (or left per chunk).
  virtual void layer_norm_backward(const LayerNormGeometry& g, const float* x, const float* gamma,
                                   const float* saved_mean, const float* saved_inv_std,
                                   const float* dy, float* dx, float* dgamma, float* dbeta) {
    throw InputError(name() + " backend: layer_normalization is not supported");
  }

  // y = x (N, d0, d1, d2) with its axes permuted, each image alone: output axis i is input axis
  // perm[i] (a rank-2 tensor has d2 = 1 and perm[2] = 2). A copy, the same on every backend.
  virtual void permute_axes(const float* x, float* y, int n, const std::array<int, 3>& dims,
                            const std::array<int, 3>& perm) {
    throw InputError(name() + " backend: permute is not supported");
  }

  // Embedding (EmbeddingGeometry): y (N, T, F) from the rows of ids (host memory, (N, T), each
  // in [0, V)). A copy, the same on every backend.
  virtual void embedding_forward(const EmbeddingGeometry& g, const int32_t* ids, const float* table,
                                 float* y) {
    throw InputError(name() + " backend: embedding is not supported");
  }
  // dtable: dy's rows added into their ids' columns per 8-image chunk (images, then positions, in
  // order), the chunks folded in chunk order (or their rows with g.chunk_grads); dx (N, T) unless
  // null: zeros, ids take no gradient.
  virtual void embedding_backward(const EmbeddingGeometry& g, const int32_t* ids, const float* dy,
                                  float* dx, float* dtable) {
    throw InputError(name() + " backend: embedding is not supported");
  }

  // Recurrent layers (RecurrentGeometry), Keras 3's cells: y from x (N, T, F); in training,
  // `saved` (N, T, saved_per_step()) keeps what the backward reads. Masks null when none.
  virtual void recurrent_forward(const RecurrentGeometry& g, const float* x, const float* kernel,
                                 const float* recurrent, const float* bias,
                                 const float* input_masks, const float* recurrent_masks, float* y,
                                 float* saved) {
    throw InputError(name() + " backend: recurrent layers are not supported");
  }
  // Truncation-free backpropagation through time: dx unless null, and the weight gradients
  // (chunk rows with chunk_grads), each summed per 8-image chunk (images, then steps, in order)
  // and the chunks folded in chunk order. dscratch holds (N, T, 2 * G * U) floats.
  virtual void recurrent_backward(const RecurrentGeometry& g, const float* x, const float* kernel,
                                  const float* recurrent, const float* input_masks,
                                  const float* recurrent_masks, const float* saved, const float* dy,
                                  float* dscratch, float* dx, float* dkernel, float* drecurrent,
                                  float* dbias) {
    throw InputError(name() + " backend: recurrent layers are not supported");
  }

  // y (N,C,H,W) = x resampled per image by transforms (host memory, N x 6: a0 a1 a2 b0 b1 b2);
  // bilinear reads the four neighbours of the source point, each through the fill mode;
  // nearest rounds the source point half to even.
  virtual void affine_forward(const AffineGeometry& g, const float* transforms, const float* x,
                              float* y) {
    throw InputError(name() + " backend: random image augmentation is not supported");
  }
  // dx (N,C,H,W) = the transpose of that resampling applied to dy: each output's dy spread over
  // the inputs it read with the same weights, added in output order per image.
  virtual void affine_backward(const AffineGeometry& g, const float* transforms, const float* dy,
                               float* dx) {
    throw InputError(name() + " backend: random image augmentation is not supported");
  }

  // Softmax cross-entropy from logits (N,K) and host labels (N); when dlogits is not null it
  // gets (softmax - onehot) * grad_scale (grad_scale = 1/N for a batch mean).
  virtual LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                         float* dlogits, float grad_scale) = 0;

  // Keras 3 Adam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
  // w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
  virtual void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                           const AdamParams& p) = 0;
  // Keras 3 SGD: v = momentum * v - lr * g; w += nesterov ? momentum * v - lr * g : v
  // (plain w -= lr * g when momentum is 0; v unused then and may be null).
  virtual void sgd_update(float* w, const float* g, float* velocity, size_t n,
                          const SgdParams& p) = 0;
  // Keras 3 RMSprop: v = rho v + (1 - rho) g^2; with centered a = rho a + (1 - rho) g and
  // d = v - a^2 + eps, else d = v + eps; inc = lr g / sqrt(d); with momentum
  // m = momentum m + inc, w -= m, else w -= inc. momentum / average_gradient are null when unused.
  virtual void rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                              float* average_gradient, size_t n, const RmspropParams& p) {
    throw InputError(name() + " backend: the rmsprop optimizer is not supported");
  }
  // Keras 3 decoupled weight decay (AdamW), before the update: w = w - w * weight_decay * lr.
  virtual void weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate) {
    throw InputError(name() + " backend: weight decay (adamw) is not supported");
  }
};

// Host-side layout changes between plain (N, C, HW) and channel blocks of `block` (C % block
// == 0): for host reads of blocked activations (traces) and for tests.
void plain_to_channel_blocks(const float* x, float* y, int n, int c, int hw, int block);
void channel_blocks_to_plain(const float* x, float* y, int n, int c, int hw, int block);

struct BackendOptions {
  int threads = 0;            // 0: all cores
  bool deterministic = true;  // bit-identical run to run (and across thread counts on the CPU)
  std::string isa = "";       // portable: "sse2", "avx2" or "avx512"; "" = $REPRO_ISA, else the
                              // best this CPU runs (every path gives the same bits)
};

// Every backend's name: reference, onednn, portable (CPU); cudnn, portable_cuda (GPU, where built).
const std::vector<std::string>& backend_names();

// One of backend_names(); throws InputError for an unknown or unbuilt backend.
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options);

}  // namespace repro
