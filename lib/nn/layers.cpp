// The layer kinds (conv2d, max_pooling2d, average_pooling2d, dropout, global_average_pooling2d,
// flatten, dense, activation) as thin owners of shapes, parameters and cached backend ops; the
// arithmetic is the backend's. relu is fused into conv and dense; sigmoid and tanh run after
// them as an element-wise op on the output (in place, or from a kept copy of the op's output for
// gelu and silu, whose gradient reads it).
// Softmax is not computed here: a final softmax dense layer outputs logits and the loss applies
// the softmax (log-sum-exp from the logits), which is the numerically stable form of the same
// model.
#include "nn/layers.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/chunk.h"
#include "core/error.h"
#include "init/initializers.h"
#include "rng/seed_stream.h"

namespace repro {

std::string FeatureShape::str() const {
  std::ostringstream out;
  if (flat) {
    out << "(" << c << ")";
  } else if (seq) {
    out << "(" << h << ", " << c << ")";
  } else {
    out << "(" << h << ", " << w << ", " << c << ")";
  }
  return out.str();
}

FeatureShape feature_shape(const std::vector<int64_t>& keras_dims) {
  REPRO_CHECK(keras_dims.size() >= 1 && keras_dims.size() <= 3,
              "a sample is (F), (T, F) or (H, W, C), got " + std::to_string(keras_dims.size()) +
                  " dimensions");
  if (keras_dims.size() == 1) return FeatureShape{int(keras_dims[0]), 1, 1, true};
  if (keras_dims.size() == 2)
    return FeatureShape{int(keras_dims[1]), int(keras_dims[0]), 1, false, true};
  return FeatureShape{int(keras_dims[2]), int(keras_dims[0]), int(keras_dims[1]), false};
}

bool initializer_is_random(const std::string& name) {
  return name != "zeros" && name != "ones" && name != "constant";
}

namespace {

// Keras layout <-> backend layout: conv kernels (R, S, C, K) <-> (K, C, R, S), dense kernels
// (IN, OUT) <-> (OUT, IN); anything else is the same in both.
std::vector<float> permute_weights(const std::vector<float>& from,
                                   const std::vector<int64_t>& keras_shape, bool to_backend) {
  std::vector<float> out(from.size());
  auto move = [&](size_t keras_index, size_t backend_index) {
    if (to_backend)
      out[backend_index] = from[keras_index];
    else
      out[keras_index] = from[backend_index];
  };
  if (keras_shape.size() == 4) {
    const int64_t r = keras_shape[0], s = keras_shape[1], c = keras_shape[2], k = keras_shape[3];
    for (int64_t ri = 0; ri < r; ++ri)
      for (int64_t si = 0; si < s; ++si)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t ki = 0; ki < k; ++ki)
            move(((ri * s + si) * c + ci) * k + ki, ((ki * c + ci) * r + ri) * s + si);
  } else if (keras_shape.size() == 2) {
    const int64_t in = keras_shape[0], o = keras_shape[1];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j) move(i * o + j, j * in + i);
  } else {
    out = from;
  }
  return out;
}

}  // namespace

std::vector<float> keras_to_backend(const std::vector<float>& keras,
                                    const std::vector<int64_t>& keras_shape) {
  return permute_weights(keras, keras_shape, true);
}

std::vector<float> backend_to_keras(const std::vector<float>& values,
                                    const std::vector<int64_t>& keras_shape) {
  return permute_weights(values, keras_shape, false);
}

namespace {

[[noreturn]] void layer_error(const LayerConfig& config, const std::string& message) {
  throw InputError(at_place(config.place.file, config.place.line, config.place.col,
                            "layer '" + config.name + "': " + message));
}

// Refuses, at model build time, a layer whose op the backend does not run.
void require_op(const Backend& backend, OptionalOp op, const LayerConfig& config) {
  if (!backend.supports(op))
    layer_error(config, "the " + backend.name() + " backend does not run " + optional_op_name(op) +
                            "; train it with device: cpu (every CPU " +
                            "backend runs it) or leave it out");
}

// A parameter drawn by its initializer in Keras layout, stored in the backend's layout.
Parameter make_parameter(Backend& backend, const std::string& name,
                         const std::vector<int64_t>& shape, const std::vector<int64_t>& keras_shape,
                         const InitializerSpec& spec, InitSeeds& seeds, bool trainable = true) {
  int64_t seed = 0;
  if (spec.seed) {
    seed = *spec.seed;
  } else if (initializer_is_random(spec.name)) {
    seed = initializer_seed(seeds.run_seed, seeds.next_unseeded++);
  }
  std::vector<float> keras = initialize(spec, keras_shape, seed, seeds.rng);
  std::vector<float> values = keras_to_backend(keras, keras_shape);
  Parameter p;
  p.name = name;
  p.shape = shape;
  p.keras_shape = keras_shape;
  p.value = backend.alloc(values.size());
  if (trainable) p.grad = backend.alloc(values.size());
  backend.upload(values.data(), p.value.data(), values.size());
  return p;
}

// The element-wise op of a non-fused activation; false for linear and softmax (identities here).
bool elementwise_activation(Activation activation, ActivationFn& fn) {
  switch (activation) {
    case Activation::relu: fn = ActivationFn::relu; return true;
    case Activation::sigmoid: fn = ActivationFn::sigmoid; return true;
    case Activation::tanh: fn = ActivationFn::tanh; return true;
    case Activation::elu: fn = ActivationFn::elu; return true;
    case Activation::leaky_relu: fn = ActivationFn::leaky_relu; return true;
    case Activation::softplus: fn = ActivationFn::softplus; return true;
    case Activation::hard_sigmoid: fn = ActivationFn::hard_sigmoid; return true;
    case Activation::gelu: fn = ActivationFn::gelu; return true;
    case Activation::gelu_approximate: fn = ActivationFn::gelu_approximate; return true;
    case Activation::silu: fn = ActivationFn::silu; return true;
    default: return false;
  }
}

// The padding before and after of a window op along one axis (window_extent(), the rule
// infer_shapes() sized its output with).
void padding_of(int in, int k, int stride, Padding padding, int& before, int& after) {
  const WindowExtent e = window_extent(in, k, stride, padding);
  before = static_cast<int>(e.pad_before);
  after = static_cast<int>(e.pad_after);
}

// A window op's geometry (ConvGeometry or PoolGeometry) from `in` to `out`: window, strides and
// the padding of config.padding.
template <class Geometry>
Geometry window_geometry(const LayerConfig& config, const std::array<int, 2>& window,
                         const FeatureShape& in, const FeatureShape& out) {
  Geometry g;
  g.c = in.c;
  g.h = in.h;
  g.w = in.w;
  g.r = window[0];
  g.s = window[1];
  g.stride_h = config.strides[0];
  g.stride_w = config.strides[1];
  g.oh = out.h;
  g.ow = out.w;
  padding_of(in.h, g.r, g.stride_h, config.padding, g.pad_top, g.pad_bottom);
  padding_of(in.w, g.s, g.stride_w, config.padding, g.pad_left, g.pad_right);
  return g;
}

PoolGeometry pool_geometry(const LayerConfig& config, const FeatureShape& in,
                           const FeatureShape& out) {
  return window_geometry<PoolGeometry>(config, config.pool_size, in, out);
}

// A convolution's geometry: k = out's channels, the bias as the config says.
ConvGeometry conv_geometry(const LayerConfig& config, const FeatureShape& in,
                           const FeatureShape& out) {
  ConvGeometry g = window_geometry<ConvGeometry>(config, config.kernel_size, in, out);
  g.k = out.c;
  g.bias = config.use_bias;
  return g;
}

// What conv2d and dense share: a kernel and an optional bias, one op object per batch size
// (Conv2dOp and DenseOp take the same calls), and sigmoid or tanh applied after the op (relu is
// fused into it).
template <class Op, class Geometry>
class WeightedLayer : public Layer {
 public:
  std::vector<Parameter*> parameters() override {
    if (geometry_.bias) return {&kernel_, &bias_};
    return {&kernel_};
  }

  // An activation whose gradient reads its input (gelu, silu) keeps the op's output in pre_;
  // the others run in place on y.
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    const size_t count = out_.size() * n;
    if (keep_pre_ && pre_.size() < count) pre_ = backend_.alloc(count);
    float* z = keep_pre_ ? pre_.data() : y;
    op(n).forward(x, kernel_.value.data(), geometry_.bias ? bias_.value.data() : nullptr, z);
    if (after_) backend_.activation_forward(after_fn_, z, y, count);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    Array& dw = chunk_grads_ ? kernel_.chunk_grads : kernel_.grad;
    Array& db = chunk_grads_ ? bias_.chunk_grads : bias_.grad;
    backward_into(x, y, dy, dx, n, dw.data(), geometry_.bias ? db.data() : nullptr);
  }

 protected:
  // The backward with the weight gradients written to dw and db (db null without a bias).
  void backward_into(const float* x, const float* y, float* dy, float* dx, int n, float* dw,
                     float* db) {
    if (after_)
      backend_.activation_backward(after_fn_, keep_pre_ ? pre_.data() : nullptr, y, dy, dy,
                                   out_.size() * n);
    op(n).backward(x, kernel_.value.data(), keep_pre_ ? pre_.data() : y, dy, dx, dw, db);
  }

  explicit WeightedLayer(Backend& backend) : backend_(backend) {}
  // The op for batches of n: geometry_ with n and the layer's layouts filled in.
  virtual std::unique_ptr<Op> make_op(int n) = 0;

  // sigmoid / tanh after the op when the config asks for one (element-wise: any layout).
  void set_activation(const LayerConfig& config) {
    after_ = !geometry_.relu && elementwise_activation(config.activation, after_fn_);
    keep_pre_ = after_ && activation_grad_needs_input(after_fn_);
    if (after_) require_op(backend_, OptionalOp::activation, config);
  }

  Backend& backend_;
  Geometry geometry_;  // n = 0: filled per batch size
  Parameter kernel_, bias_;

 private:
  Op& op(int n) {
    auto& slot = ops_[n];
    if (!slot) slot = make_op(n);
    return *slot;
  }

  bool after_ = false;
  ActivationFn after_fn_ = ActivationFn::relu;
  bool keep_pre_ = false;  // the activation's gradient reads its input: keep it in pre_
  Array pre_;              // the op's output before that activation (N, out)
  std::map<int, std::unique_ptr<Op>> ops_;
};

class Conv2dLayer : public WeightedLayer<Conv2dOp, ConvGeometry> {
 public:
  Conv2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
              Backend& backend, InitSeeds& seeds)
      : WeightedLayer(backend) {
    name_ = config.name;
    in_ = in;
    if (config.activation == Activation::softmax)
      layer_error(config, "conv2d supports activation relu or linear, not softmax");
    geometry_ = conv_geometry(config, in, out);
    geometry_.relu = config.activation == Activation::relu;
    set_activation(config);
    out_ = out;

    const int64_t k = geometry_.k, c = geometry_.c, r = geometry_.r, s = geometry_.s;
    kernel_ = make_parameter(backend, name_ + "/kernel", {k, c, r, s}, {r, s, c, k},
                             config.kernel_initializer, seeds);
    if (config.use_bias)
      bias_ = make_parameter(backend, name_ + "/bias", {k}, {k}, config.bias_initializer, seeds);
  }

  const char* kind() const override { return "conv"; }
  bool takes_channel_blocks() const override { return true; }

 private:
  std::unique_ptr<Conv2dOp> make_op(int n) override {
    ConvGeometry g = geometry_;
    g.n = n;
    g.x_block = in_block_;
    g.y_block = out_block_;
    g.chunk_grads = chunk_grads_;
    return backend_.make_conv2d(g);
  }
};

class MaxPool2dLayer : public Layer {
 public:
  MaxPool2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                 Backend& backend)
      : backend_(backend), geometry_(pool_geometry(config, in, out)) {
    name_ = config.name;
    in_ = in;
    out_ = out;
  }

  const char* kind() const override { return "pool"; }
  bool takes_channel_blocks() const override { return true; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    op(n).forward(x, y);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) op(n).backward(dy, dx);
  }

 private:
  MaxPool2dOp& op(int n) {
    auto& slot = ops_[n];
    if (!slot) {
      PoolGeometry g = geometry_;
      g.n = n;
      g.x_block = in_block_;
      g.y_block = out_block_;
      slot = backend_.make_max_pool2d(g);
    }
    return *slot;
  }

  Backend& backend_;
  PoolGeometry geometry_;
  std::map<int, std::unique_ptr<MaxPool2dOp>> ops_;
};

class AvgPool2dLayer : public Layer {
 public:
  AvgPool2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                 Backend& backend)
      : backend_(backend), geometry_(pool_geometry(config, in, out)) {
    require_op(backend, OptionalOp::avg_pool2d, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
  }

  const char* kind() const override { return "pool"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.avg_pool2d_forward(with_batch(n), x, y);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) backend_.avg_pool2d_backward(with_batch(n), dy, dx);
  }

 private:
  PoolGeometry with_batch(int n) const {
    PoolGeometry g = geometry_;
    g.n = n;
    return g;
  }

  Backend& backend_;
  PoolGeometry geometry_;  // n = 0: filled per call
};

// The per-channel gamma (scale) and beta (center) of the normalization layers, in Keras's weight
// order; a switched-off one is absent (its op argument null: 1 or 0).
struct ScaleShift {
  ScaleShift(const LayerConfig& config, const std::string& name, int64_t c, Backend& backend,
             InitSeeds& seeds)
      : scale(config.scale), center(config.center) {
    if (scale)
      gamma = make_parameter(backend, name + "/gamma", {c}, {c}, config.gamma_initializer, seeds);
    if (center)
      beta = make_parameter(backend, name + "/beta", {c}, {c}, config.beta_initializer, seeds);
  }
  std::vector<Parameter*> parameters() {
    std::vector<Parameter*> out;
    if (scale) out.push_back(&gamma);
    if (center) out.push_back(&beta);
    return out;
  }
  const float* gamma_value() const { return scale ? gamma.value.data() : nullptr; }
  const float* beta_value() const { return center ? beta.value.data() : nullptr; }

  bool scale, center;
  Parameter gamma, beta;  // (C) each
};

// Keras's BatchNormalization over the channel axis: gamma, beta trained, the moving mean and
// variance updated by each training forward and used in evaluation.
class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                 Backend& backend, InitSeeds& seeds)
      : backend_(backend), affine_(config, config.name, in.c, backend, seeds) {
    require_op(backend, OptionalOp::batch_norm, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_.c = in.c;
    geometry_.hw = in.h * in.w;
    geometry_.epsilon = static_cast<float>(config.epsilon);
    geometry_.momentum = static_cast<float>(config.momentum);
    geometry_.one_minus_momentum = static_cast<float>(1.0 - config.momentum);  // Python's double
    const int64_t c = in.c;
    moving_mean_ = make_parameter(backend, name_ + "/moving_mean", {c}, {c},
                                  config.moving_mean_initializer, seeds, false);
    moving_variance_ = make_parameter(backend, name_ + "/moving_variance", {c}, {c},
                                      config.moving_variance_initializer, seeds, false);
    saved_mean_ = backend.alloc(in.c);
    saved_inv_std_ = backend.alloc(in.c);
  }

  const char* kind() const override { return "batch_norm"; }
  std::vector<Parameter*> parameters() override { return affine_.parameters(); }
  std::vector<Parameter*> non_trainable() override { return {&moving_mean_, &moving_variance_}; }
  bool exchanges_chunk_sums() const override { return true; }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    BatchNormGeometry g = geometry_;
    g.n = n;
    if (ctx.training && exchange_) {
      g.batch = static_cast<int>(ctx.batch_images);
      g.exchange = exchange_;
    }
    batch_ = g.batch;
    backend_.batch_norm_forward(g, ctx.training, x, affine_.gamma_value(), affine_.beta_value(),
                                moving_mean_.value.data(), moving_variance_.value.data(),
                                saved_mean_.data(), saved_inv_std_.data(), y);
  }
  void backward(const float* x, const float*, float* dy, float* dx, int n) override {
    BatchNormGeometry g = geometry_;
    g.n = n;
    g.batch = batch_;
    g.exchange = batch_ > 0 ? exchange_ : nullptr;
    g.chunk_grads = chunk_grads_;
    Array& dgamma = chunk_grads_ ? affine_.gamma.chunk_grads : affine_.gamma.grad;
    Array& dbeta = chunk_grads_ ? affine_.beta.chunk_grads : affine_.beta.grad;
    backend_.batch_norm_backward(
        g, x, affine_.gamma_value(), saved_mean_.data(), saved_inv_std_.data(), dy, dx,
        affine_.scale ? dgamma.data() : nullptr, affine_.center ? dbeta.data() : nullptr);
  }

 private:
  Backend& backend_;
  BatchNormGeometry geometry_;  // n = 0: filled per call
  ScaleShift affine_;
  Parameter moving_mean_, moving_variance_;  // (C) each
  Array saved_mean_, saved_inv_std_;         // (C) of the last training forward
  int batch_ = 0;  // the last training forward's whole batch, when split over ranks (else 0)
};

// Keras's LayerNormalization over the channel axis (each image position, or the whole vector of a
// flat input, normalized by its own statistics): gamma and beta trained, nothing kept across
// batches, the same in training and evaluation. Works image by image, so ranks can split it.
class LayerNormLayer : public Layer {
 public:
  LayerNormLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                 Backend& backend, InitSeeds& seeds)
      : backend_(backend), affine_(config, config.name, in.c, backend, seeds) {
    require_op(backend, OptionalOp::layer_norm, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_.c = in.c;
    geometry_.hw = in.h * in.w;
    geometry_.epsilon = static_cast<float>(config.epsilon);
  }

  const char* kind() const override { return "layer_norm"; }
  std::vector<Parameter*> parameters() override { return affine_.parameters(); }

  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    const size_t rows = size_t(n) * geometry_.hw;
    if (saved_mean_.size() < rows) {
      saved_mean_ = backend_.alloc(rows);
      saved_inv_std_ = backend_.alloc(rows);
    }
    backend_.layer_norm_forward(with_batch(n), x, affine_.gamma_value(), affine_.beta_value(),
                                saved_mean_.data(), saved_inv_std_.data(), y);
  }
  void backward(const float* x, const float*, float* dy, float* dx, int n) override {
    Array& dgamma = chunk_grads_ ? affine_.gamma.chunk_grads : affine_.gamma.grad;
    Array& dbeta = chunk_grads_ ? affine_.beta.chunk_grads : affine_.beta.grad;
    backend_.layer_norm_backward(
        with_batch(n), x, affine_.gamma_value(), saved_mean_.data(), saved_inv_std_.data(), dy, dx,
        affine_.scale ? dgamma.data() : nullptr, affine_.center ? dbeta.data() : nullptr);
  }

 private:
  LayerNormGeometry with_batch(int n) const {
    LayerNormGeometry g = geometry_;
    g.n = n;
    g.chunk_grads = chunk_grads_;
    return g;
  }

  Backend& backend_;
  LayerNormGeometry geometry_;  // n = 0: filled per call
  ScaleShift affine_;
  Array saved_mean_, saved_inv_std_;  // (N * HW) of the last forward
};

// Keras's RandomFlip, RandomTranslation and RandomZoom: in training, each image resampled by
// its own transform, drawn from (seed, layer index, global step) at the image's global position
// in the batch (ForwardContext::first_image + i), never from a thread or rank; the identity in
// evaluation. The transforms are Keras's matrices, computed in float32.
class AugmentationLayer : public Layer {
 public:
  AugmentationLayer(const LayerConfig& config, int index, const FeatureShape& in,
                    const FeatureShape& out, Backend& backend)
      : backend_(backend), config_(config), index_(index) {
    require_op(backend, OptionalOp::affine, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_.c = in.c;
    geometry_.h = in.h;
    geometry_.w = in.w;
    geometry_.fill = config.fill_mode == "wrap"       ? FillMode::wrap
                     : config.fill_mode == "constant" ? FillMode::constant
                     : config.fill_mode == "nearest"  ? FillMode::nearest
                                                      : FillMode::reflect;
    geometry_.interpolation =
        config.interpolation == "nearest" ? Interpolation::nearest : Interpolation::bilinear;
    // A flip moves whole pixels: nearest reads them exactly.
    if (config.kind == LayerKind::random_flip) geometry_.interpolation = Interpolation::nearest;
    geometry_.fill_value = static_cast<float>(config.fill_value);
  }

  const char* kind() const override { return "augment"; }
  bool identity_in_eval() const override { return true; }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    const uint64_t seed = config_.seed ? static_cast<uint64_t>(*config_.seed) : ctx.seed;
    const StreamKey key = derive_key(seed, Purpose::augmentation, static_cast<uint32_t>(index_),
                                     static_cast<uint32_t>(ctx.global_step));
    transforms_.assign(size_t(n) * 6, 0.0f);
    for (int i = 0; i < n; i++) {
      const uint64_t image = static_cast<uint64_t>(ctx.first_image + i);
      const float u0 = bits_to_unit_float(stream_bits(key, 2 * image));
      const float u1 = bits_to_unit_float(stream_bits(key, 2 * image + 1));
      transform(u0, u1, transforms_.data() + size_t(i) * 6);
    }
    geometry_.n = n;
    backend_.affine_forward(geometry_, transforms_.data(), x, y);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (!dx) return;
    geometry_.n = n;
    backend_.affine_backward(geometry_, transforms_.data(), dy, dx);
  }

 private:
  // t = [a0 a1 a2 b0 b1 b2]: output (x, y) reads input (a0 x + a1 y + a2, b0 x + b1 y + b2).
  void transform(float u0, float u1, float* t) const {
    const float h = static_cast<float>(in_.h), w = static_cast<float>(in_.w);
    auto uniform = [](const std::array<double, 2>& range, float u) {
      const float lo = static_cast<float>(range[0]), hi = static_cast<float>(range[1]);
      return lo + (hi - lo) * u;
    };
    t[0] = 1.0f, t[1] = 0.0f, t[2] = 0.0f, t[3] = 0.0f, t[4] = 1.0f, t[5] = 0.0f;
    if (config_.kind == LayerKind::random_flip) {
      const bool horizontal = config_.mode != "vertical" && u0 < 0.5f;
      const bool vertical = config_.mode != "horizontal" && u1 < 0.5f;
      if (horizontal) t[0] = -1.0f, t[2] = w - 1.0f;
      if (vertical) t[4] = -1.0f, t[5] = h - 1.0f;
    } else if (config_.kind == LayerKind::random_translation) {
      t[5] = -(uniform(config_.height_factor, u0) * h);
      t[2] = -(uniform(config_.width_factor, u1) * w);
    } else {
      const float zoom_y = 1.0f + uniform(config_.height_factor, u0);
      const float zoom_x =
          config_.width_factor_given ? 1.0f + uniform(config_.width_factor, u1) : zoom_y;
      t[0] = zoom_x, t[2] = ((w - 1.0f) / 2.0f) * (1.0f - zoom_x);
      t[4] = zoom_y, t[5] = ((h - 1.0f) / 2.0f) * (1.0f - zoom_y);
    }
  }

  Backend& backend_;
  LayerConfig config_;
  int index_;
  AffineGeometry geometry_;
  std::vector<float> transforms_;  // (N, 6) of the last forward
};

// Keras's Activation layer. softmax, allowed on the last layer only, passes its input through:
// the loss applies the softmax to these logits (as a softmax dense layer does).
class ActivationLayer : public Layer {
 public:
  ActivationLayer(const LayerConfig& config, bool last, const FeatureShape& in,
                  const FeatureShape& out, Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    out_ = out;
    if (config.activation == Activation::softmax && !last)
      layer_error(config, "softmax is supported only on the last layer (the loss applies it)");
    active_ = elementwise_activation(config.activation, fn_);
    if (active_) require_op(backend, OptionalOp::activation, config);
  }

  const char* kind() const override { return "activation"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    const size_t count = in_.size() * n;
    if (active_) {
      backend_.activation_forward(fn_, x, y, count);
    } else {
      std::vector<float> host(count);
      backend_.download(x, host.data(), count);
      backend_.upload(host.data(), y, count);
    }
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    if (!dx) return;
    const size_t count = in_.size() * n;
    if (active_) {
      backend_.activation_backward(fn_, x, y, dy, dx, count);
    } else {
      std::vector<float> host(count);
      backend_.download(dy, host.data(), count);
      backend_.upload(host.data(), dx, count);
    }
  }

 private:
  Backend& backend_;
  bool active_ = false;  // false: linear or softmax, the identity here
  ActivationFn fn_ = ActivationFn::relu;
};

class DropoutLayer : public Layer {
 public:
  DropoutLayer(const LayerConfig& config, int index, const FeatureShape& in,
               const FeatureShape& out, Backend& backend)
      : backend_(backend), index_(index), rate_(static_cast<float>(config.rate)) {
    name_ = config.name;
    in_ = in;
    out_ = out;
    if (config.rate < 0 || config.rate >= 1) layer_error(config, "dropout rate must be in [0, 1)");
  }

  const char* kind() const override { return "dropout"; }
  bool identity_in_eval() const override { return true; }
  bool takes_channel_blocks() const override { return in_.image(); }

  // The mask is keyed by (layer index, global step, plain NCHW element in the whole batch): the
  // same on every backend, layout, thread count and rank. Input and output share one layout
  // (the model sees to it).
  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    key_ = derive_key(ctx.seed, Purpose::dropout, static_cast<uint32_t>(index_),
                      static_cast<uint32_t>(ctx.global_step));
    key_.offset = static_cast<uint64_t>(ctx.first_image) * in_.size();
    if (in_block_ > 1) {
      backend_.image_dropout_forward(x, y, n, in_.c, in_.h * in_.w, in_block_, key_, rate_);
    } else {
      backend_.dropout_forward(x, y, in_.size() * n, key_, rate_);
    }
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (!dx) return;
    if (in_block_ > 1) {
      backend_.image_dropout_backward(dy, dx, n, in_.c, in_.h * in_.w, in_block_, key_, rate_);
    } else {
      backend_.dropout_backward(dy, dx, in_.size() * n, key_, rate_);
    }
  }

 private:
  Backend& backend_;
  int index_;
  float rate_;
  StreamKey key_;  // of the last forward()
};

class GlobalAvgPoolLayer : public Layer {
 public:
  GlobalAvgPoolLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                     Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "gap"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.global_avg_pool_forward(x, y, n, in_.c, in_.h * in_.w);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) backend_.global_avg_pool_backward(dy, dx, n, in_.c, in_.h * in_.w);
  }

 private:
  Backend& backend_;
};

class GlobalMaxPoolLayer : public Layer {
 public:
  GlobalMaxPoolLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                     Backend& backend)
      : backend_(backend) {
    require_op(backend, OptionalOp::global_max_pool, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "gmp"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.global_max_pool_forward(x, y, n, in_.c, in_.h * in_.w);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    if (dx) backend_.global_max_pool_backward(x, y, dy, dx, n, in_.c, in_.h * in_.w);
  }

 private:
  Backend& backend_;
};

class ZeroPadding2dLayer : public Layer {
 public:
  ZeroPadding2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                     Backend& backend)
      : backend_(backend), pad_(config.zero_padding) {
    require_op(backend, OptionalOp::zero_padding, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "pad"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.zero_pad2d_forward(x, y, n, in_.c, in_.h, in_.w, pad_);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) backend_.zero_pad2d_backward(dy, dx, n, in_.c, in_.h, in_.w, pad_);
  }

 private:
  Backend& backend_;
  std::array<int, 4> pad_;
};

// Keras flattens (H, W, C); our activations are (C, H, W), so flatten is a per-image transpose.
class FlattenLayer : public Layer {
 public:
  FlattenLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
               Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "flatten"; }
  // An image to Keras's (H, W, C) order; a sequence is in Keras's order already (a copy).
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.nchw_to_nhwc(x, y, n, channels(), positions());
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) backend_.nhwc_to_nchw(dy, dx, n, channels(), positions());
  }

 private:
  int channels() const { return in_.image() ? in_.c : int(in_.size()); }
  int positions() const { return in_.image() ? in_.h * in_.w : 1; }
  Backend& backend_;
};

// keras.layers.Reshape: the sample's values in Keras's order ((H, W, C) row-major) laid out as
// target_shape. Our images are (C, H, W): to Keras's order (the flatten transpose), then from it.
class ReshapeLayer : public Layer {
 public:
  ReshapeLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
               Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "reshape"; }
  // Flat and sequence buffers are in Keras's order already; an image goes through it.
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    if (!out_.image()) return to_keras_order(in_, x, y, n);
    const float* keras_order = x;
    if (in_.image()) {
      scratch(n);
      to_keras_order(in_, x, tmp_.data(), n);
      keras_order = tmp_.data();
    }
    from_keras_order(out_, keras_order, y, n);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (!dx) return;
    if (!out_.image()) return from_keras_order(in_, dy, dx, n);
    if (!in_.image()) return to_keras_order(out_, dy, dx, n);
    scratch(n);
    to_keras_order(out_, dy, tmp_.data(), n);
    from_keras_order(in_, tmp_.data(), dx, n);
  }

 private:
  void scratch(int n) {
    if (tmp_.size() < size_t(n) * in_.size()) tmp_ = backend_.alloc(size_t(n) * in_.size());
  }
  // A tensor of `shape` to Keras's order and back (a copy unless an image).
  void to_keras_order(const FeatureShape& shape, const float* from, float* to, int n) {
    if (shape.image()) return backend_.nchw_to_nhwc(from, to, n, shape.c, shape.h * shape.w);
    backend_.nchw_to_nhwc(from, to, n, int(shape.size()), 1);
  }
  void from_keras_order(const FeatureShape& shape, const float* from, float* to, int n) {
    if (shape.image()) return backend_.nhwc_to_nchw(from, to, n, shape.c, shape.h * shape.w);
    backend_.nhwc_to_nchw(from, to, n, int(shape.size()), 1);
  }
  Backend& backend_;
  Array tmp_;
};

// Keras's DepthwiseConv2D: each input channel filtered alone by depth_multiplier kernels, then
// the bias and the activation. Its kernel is Keras's (R, S, C, DM), named `kernel` as Keras 3
// names it.
class DepthwiseConv2dLayer : public WeightedLayer<Conv2dOp, ConvGeometry> {
 public:
  DepthwiseConv2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                       Backend& backend, InitSeeds& seeds)
      : WeightedLayer(backend) {
    require_op(backend, OptionalOp::depthwise_conv, config);
    if (config.activation == Activation::softmax)
      layer_error(config, layer_key(config.kind) + " supports no softmax (the last layer's only)");
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_ = conv_geometry(config, in, out);
    geometry_.depth_multiplier = config.depth_multiplier;
    geometry_.relu = config.activation == Activation::relu;
    set_activation(config);
    const int64_t dm = config.depth_multiplier, c = in.c, r = geometry_.r, s = geometry_.s;
    kernel_ = make_parameter(backend, name_ + "/kernel", {dm, c, r, s}, {r, s, c, dm},
                             config.depthwise_initializer, seeds);
    if (config.use_bias)
      bias_ = make_parameter(backend, name_ + "/bias", {c * dm}, {c * dm}, config.bias_initializer,
                             seeds);
  }
  const char* kind() const override { return "depthwise_conv"; }

 private:
  std::unique_ptr<Conv2dOp> make_op(int n) override {
    ConvGeometry g = geometry_;
    g.n = n;
    g.chunk_grads = chunk_grads_;
    return backend_.make_depthwise_conv2d(g);
  }
};

// Keras's SeparableConv2D: a depthwise convolution with the layer's strides and padding to
// C * DM channels (no bias, no activation), then a 1x1 convolution to `filters` with the bias
// and the activation. Weights in Keras's order: depthwise_kernel, pointwise_kernel, bias.
class SeparableConv2dLayer : public Layer {
 public:
  SeparableConv2dLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                       Backend& backend, InitSeeds& seeds)
      : backend_(backend),
        middle_{in.c * config.depth_multiplier, out.h, out.w, false},
        depthwise_(depthwise_part(config), in, middle_, backend, seeds),
        pointwise_(pointwise_part(config), middle_, out, backend, seeds) {
    name_ = config.name;
    in_ = in;
    out_ = out;
    depthwise_.parameters()[0]->name = name_ + "/depthwise_kernel";
    pointwise_.parameters()[0]->name = name_ + "/pointwise_kernel";
  }
  const char* kind() const override { return "separable_conv"; }
  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> all = depthwise_.parameters();
    for (Parameter* p : pointwise_.parameters()) all.push_back(p);
    return all;
  }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    depthwise_.set_chunk_grads(chunk_grads_);
    pointwise_.set_chunk_grads(chunk_grads_);
    const size_t count = middle_.size() * size_t(n);
    if (mid_.size() < count) {
      mid_ = backend_.alloc(count);
      dmid_ = backend_.alloc(count);
    }
    depthwise_.forward(x, mid_.data(), n, ctx);
    pointwise_.forward(mid_.data(), y, n, ctx);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    pointwise_.backward(mid_.data(), y, dy, dmid_.data(), n);
    depthwise_.backward(x, mid_.data(), dmid_.data(), dx, n);
  }

 private:
  static LayerConfig depthwise_part(const LayerConfig& config) {
    LayerConfig part = config;
    part.kind = LayerKind::depthwise_conv2d;
    part.use_bias = false;
    part.activation = Activation::linear;
    return part;
  }
  static LayerConfig pointwise_part(const LayerConfig& config) {
    LayerConfig part = config;
    part.kind = LayerKind::conv2d;
    part.kernel_size = {1, 1};
    part.strides = {1, 1};
    part.padding = Padding::valid;
    part.kernel_initializer = config.pointwise_initializer;
    return part;
  }

  Backend& backend_;
  FeatureShape middle_;  // the depthwise output (C * DM, OH, OW)
  DepthwiseConv2dLayer depthwise_;
  Conv2dLayer pointwise_;
  Array mid_, dmid_;  // the depthwise output and its gradient (N, middle) of the last forward
};

// Keras's SimpleRNN and LSTM over a sequence (T, F): kernel (F, G * U), recurrent_kernel
// (U, G * U) and bias (G * U) in Keras's layout outside, the dense layout (OUT, IN) inside.
// Dropout masks are drawn once per sequence, keyed by (run seed, layer, mask, global step) at the
// image's place in the whole batch, like every random choice: the same on every backend, thread
// count and rank. LSTM takes one input mask per gate when recurrent_dropout is on (Keras's
// implementation 1), else one for all gates.
class RecurrentLayer : public Layer {
 public:
  // mask_stream: the first of the layer's mask streams this one draws (bidirectional's backward
  // copy draws its own, 4 further on).
  RecurrentLayer(const LayerConfig& config, int index, const FeatureShape& in,
                 const FeatureShape& out, Backend& backend, InitSeeds& seeds,
                 uint32_t mask_stream = 0)
      : backend_(backend), index_(index), mask_stream_(mask_stream) {
    require_op(backend, OptionalOp::recurrent, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_.cell = config.kind == LayerKind::lstm  ? RnnCell::lstm
                     : config.kind == LayerKind::gru ? RnnCell::gru
                                                     : RnnCell::simple;
    geometry_.reset_after = config.reset_after;
    geometry_.t = in.h;
    geometry_.f = in.c;
    geometry_.u = config.units;
    geometry_.bias = config.use_bias;
    geometry_.go_backwards = config.go_backwards;
    geometry_.return_sequences = config.return_sequences;
    geometry_.activation = rnn_activation(config, config.activation);
    geometry_.recurrent_activation = rnn_activation(config, config.recurrent_activation);
    dropout_ = static_cast<float>(config.dropout);
    recurrent_dropout_ = static_cast<float>(config.recurrent_dropout);
    const int gates = geometry_.gates();
    if (dropout_ > 0)
      geometry_.input_masks =
          geometry_.cell != RnnCell::simple && recurrent_dropout_ > 0 ? gates : 1;
    if (recurrent_dropout_ > 0) geometry_.recurrent_masks = gates;
    const int64_t width = int64_t{gates} * config.units, f = in.c, u = config.units;
    kernel_ = make_parameter(backend, name_ + "/kernel", {width, f}, {f, width},
                             config.kernel_initializer, seeds);
    recurrent_ = make_parameter(backend, name_ + "/recurrent_kernel", {width, u}, {u, width},
                                config.recurrent_initializer, seeds);
    if (geometry_.two_biases()) {  // Keras's (2, 3U): the input and the recurrent bias
      bias_ = make_parameter(backend, name_ + "/bias", {width, 2}, {2, width},
                             config.bias_initializer, seeds);
    } else if (config.use_bias) {
      bias_ = make_parameter(backend, name_ + "/bias", {width}, {width}, config.bias_initializer,
                             seeds);
      if (geometry_.cell == RnnCell::lstm && config.unit_forget_bias) {
        // Keras: the bias initializer's values with ones for the forget gate (i, f, c, o).
        std::vector<float> values(static_cast<size_t>(width));
        backend.download(bias_.value.data(), values.data(), values.size());
        std::fill(values.begin() + u, values.begin() + 2 * u, 1.0f);
        backend.upload(values.data(), bias_.value.data(), values.size());
      }
    }
  }

  const char* kind() const override { return "recurrent"; }
  std::vector<Parameter*> parameters() override {
    if (geometry_.bias) return {&kernel_, &recurrent_, &bias_};
    return {&kernel_, &recurrent_};
  }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    RecurrentGeometry g = with_batch(n, ctx.training);
    float* saved = nullptr;
    if (ctx.training) {
      const size_t steps = size_t(n) * g.t;
      if (saved_.size() < steps * g.saved_per_step()) {
        saved_ = backend_.alloc(steps * g.saved_per_step());
        dz_ = backend_.alloc(steps * 2 * size_t(g.gates()) * g.u);
      }
      saved = saved_.data();
      draw_masks(g, ctx);
    }
    backend_.recurrent_forward(g, x, kernel_.value.data(), recurrent_.value.data(),
                               g.bias ? bias_.value.data() : nullptr,
                               g.input_masks ? input_masks_.data() : nullptr,
                               g.recurrent_masks ? recurrent_masks_.data() : nullptr, y, saved);
    if (ctx.training) training_ = g;
  }
  void backward(const float* x, const float*, float* dy, float* dx, int n) override {
    RecurrentGeometry g = training_;
    REPRO_CHECK(g.n == n, "recurrent backward: not the last training forward's batch");
    g.chunk_grads = chunk_grads_;
    Array& dk = chunk_grads_ ? kernel_.chunk_grads : kernel_.grad;
    Array& dr = chunk_grads_ ? recurrent_.chunk_grads : recurrent_.grad;
    Array& db = chunk_grads_ ? bias_.chunk_grads : bias_.grad;
    backend_.recurrent_backward(g, x, kernel_.value.data(), recurrent_.value.data(),
                                g.input_masks ? input_masks_.data() : nullptr,
                                g.recurrent_masks ? recurrent_masks_.data() : nullptr,
                                saved_.data(), dy, dz_.data(), dx, dk.data(), dr.data(),
                                g.bias ? db.data() : nullptr);
  }

 private:
  static RnnActivation rnn_activation(const LayerConfig& config, Activation a) {
    switch (a) {
      case Activation::tanh: return RnnActivation::tanh;
      case Activation::sigmoid: return RnnActivation::sigmoid;
      case Activation::relu: return RnnActivation::relu;
      case Activation::hard_sigmoid: return RnnActivation::hard_sigmoid;
      case Activation::linear: return RnnActivation::linear;
      default:
        layer_error(config, layer_key(config.kind) + " supports activations tanh, sigmoid, relu, " +
                                "hard_sigmoid and linear, not " + activation_name(a));
    }
  }

  RecurrentGeometry with_batch(int n, bool training) const {
    RecurrentGeometry g = geometry_;
    g.n = n;
    if (!training) g.input_masks = g.recurrent_masks = 0;
    return g;
  }

  // Mask m of `count` (N, width) masks: keep(i) at the image's place in the whole batch.
  void draw(Array& masks, int count, int width, float rate, uint32_t first_stream, int n,
            const ForwardContext& ctx) {
    const float scale = static_cast<float>(1.0 / (1.0 - double(rate)));
    std::vector<float> host(size_t(count) * n * width);
    for (int m = 0; m < count; ++m) {
      StreamKey key = derive_key(ctx.seed, Purpose::recurrent_dropout,
                                 static_cast<uint32_t>(index_) * 16u + first_stream + uint32_t(m),
                                 static_cast<uint32_t>(ctx.global_step));
      key.offset = static_cast<uint64_t>(ctx.first_image) * width;
      for (size_t i = 0; i < size_t(n) * width; ++i)
        host[size_t(m) * n * width + i] = dropout_keep(key, i, rate) ? scale : 0.0f;
    }
    if (masks.size() < host.size()) masks = backend_.alloc(host.size());
    backend_.upload(host.data(), masks.data(), host.size());
  }
  void draw_masks(const RecurrentGeometry& g, const ForwardContext& ctx) {
    // Streams layer * 16 + s: input masks from s = 0, state masks from s = 8 (at most 4 each).
    if (g.input_masks) draw(input_masks_, g.input_masks, g.f, dropout_, mask_stream_, g.n, ctx);
    if (g.recurrent_masks)
      draw(recurrent_masks_, g.recurrent_masks, g.u, recurrent_dropout_, 8 + mask_stream_, g.n,
           ctx);
  }

  Backend& backend_;
  int index_;
  uint32_t mask_stream_;
  RecurrentGeometry geometry_;  // n = 0: filled per call
  RecurrentGeometry training_;  // the last training forward's
  float dropout_ = 0, recurrent_dropout_ = 0;
  Parameter kernel_, recurrent_, bias_;
  Array saved_, dz_;                     // (N, T, saved_per_step()), (N, T, 2 * G * U)
  Array input_masks_, recurrent_masks_;  // of the last training forward
};

// Keras's Bidirectional over a recurrent layer: a forward copy and a go_backwards copy of it
// (weights "<name>/forward_<layer>/..." and "<name>/backward_<layer>/...", Keras's sub-layer
// names), the backward copy's sequence flipped back into input order, then merged: concat (the
// forward units, then the backward ones), sum, mul or ave ((a + b) / 2). The copies draw their
// own dropout masks. The merge runs on host memory: the recurrent op, which both copies need,
// exists on the CPU backends only (require_op).
class BidirectionalLayer : public Layer {
 public:
  BidirectionalLayer(const LayerConfig& config, int index, const FeatureShape& in,
                     const FeatureShape& out, Backend& backend, InitSeeds& seeds)
      : backend_(backend),
        half_(half_shape(config, in)),
        forward_(copy(config, false), index, in, half_, backend, seeds),
        backward_(copy(config, true), index, in, half_, backend, seeds, 4),
        merge_(config.merge_mode == "sum"   ? Merge::sum
               : config.merge_mode == "mul" ? Merge::mul
               : config.merge_mode == "ave" ? Merge::ave
                                            : Merge::concat),
        steps_(config.wrapped.at(0).return_sequences ? in.h : 1),
        units_(config.wrapped.at(0).units) {
    name_ = config.name;
    in_ = in;
    out_ = out;
  }
  const char* kind() const override { return "recurrent"; }
  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> all = forward_.parameters();
    for (Parameter* p : backward_.parameters()) all.push_back(p);
    return all;
  }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    forward_.set_chunk_grads(chunk_grads_);
    backward_.set_chunk_grads(chunk_grads_);
    const size_t count = half_.size() * size_t(n);
    if (yf_.size() < count) {
      yf_ = backend_.alloc(count);
      yb_ = backend_.alloc(count);
      dyf_ = backend_.alloc(count);
      dyb_ = backend_.alloc(count);
    }
    forward_.forward(x, yf_.data(), n, ctx);
    backward_.forward(x, yb_.data(), n, ctx);
    const bool concat = merge_ == Merge::concat;
    const size_t width = concat ? 2 * size_t(units_) : size_t(units_);
    for (int i = 0; i < n; ++i)
      for (int t = 0; t < steps_; ++t) {
        const float* a = yf_.data() + step(i, t);
        const float* b = yb_.data() + step(i, steps_ - 1 - t);
        float* o = y + (size_t(i) * steps_ + t) * width;
        for (int u = 0; u < units_; ++u) {
          if (concat) {
            o[u] = a[u];
            o[units_ + u] = b[u];
          } else if (merge_ == Merge::sum) {
            o[u] = a[u] + b[u];
          } else if (merge_ == Merge::mul) {
            o[u] = a[u] * b[u];
          } else {  // ave
            o[u] = (a[u] + b[u]) / 2.0f;
          }
        }
      }
  }
  void backward(const float* x, const float*, float* dy, float* dx, int n) override {
    const bool concat = merge_ == Merge::concat;
    const size_t width = concat ? 2 * size_t(units_) : size_t(units_);
    for (int i = 0; i < n; ++i)
      for (int t = 0; t < steps_; ++t) {
        const float* g = dy + (size_t(i) * steps_ + t) * width;
        float* gf = dyf_.data() + step(i, t);
        float* gb = dyb_.data() + step(i, steps_ - 1 - t);
        const float* a = yf_.data() + step(i, t);
        const float* b = yb_.data() + step(i, steps_ - 1 - t);
        for (int u = 0; u < units_; ++u) {
          if (concat) {
            gf[u] = g[u];
            gb[u] = g[units_ + u];
          } else if (merge_ == Merge::sum) {
            gf[u] = gb[u] = g[u];
          } else if (merge_ == Merge::mul) {
            gf[u] = g[u] * b[u];
            gb[u] = g[u] * a[u];
          } else {  // ave
            gf[u] = gb[u] = g[u] / 2.0f;
          }
        }
      }
    forward_.backward(x, yf_.data(), dyf_.data(), dx, n);
    if (!dx) {
      backward_.backward(x, yb_.data(), dyb_.data(), nullptr, n);
      return;
    }
    const size_t count = in_.size() * size_t(n);
    if (dxb_.size() < count) dxb_ = backend_.alloc(count);
    backward_.backward(x, yb_.data(), dyb_.data(), dxb_.data(), n);
    for (size_t k = 0; k < count; ++k) dx[k] += dxb_.data()[k];
  }

 private:
  static FeatureShape half_shape(const LayerConfig& config, const FeatureShape& in) {
    const LayerConfig& inner = config.wrapped.at(0);
    return inner.return_sequences ? feature_shape({in.h, inner.units})
                                  : feature_shape({inner.units});
  }
  // The forward or the backward copy, named as Keras names them.
  static LayerConfig copy(const LayerConfig& config, bool backwards) {
    LayerConfig inner = config.wrapped.at(0);
    inner.name = config.name + "/" + bidirectional_copy_name(config, backwards);
    inner.go_backwards = backwards;
    inner.place = config.place;
    return inner;
  }
  // The offset of image i's step t in a copy's output (steps_ = 1: its last state).
  size_t step(int i, int t) const { return (size_t(i) * steps_ + size_t(t)) * size_t(units_); }

  Backend& backend_;
  FeatureShape half_;  // each copy's output: (T, U) or (U)
  RecurrentLayer forward_, backward_;
  enum class Merge { concat, sum, mul, ave } merge_;
  int steps_, units_;
  Array yf_, yb_, dyf_, dyb_, dxb_;  // the copies' outputs and gradients of the last call
};

// Keras's Permute over the sample in Keras's order ((H, W, C), (T, F) or (F)): an image goes to
// that order first and back after, as reshape does.
class PermuteLayer : public Layer {
 public:
  PermuteLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
               Backend& backend)
      : backend_(backend) {
    require_op(backend, OptionalOp::permute, config);
    name_ = config.name;
    in_ = in;
    out_ = out;
    dims_ = keras_dims(in);
    for (size_t d = 0; d < config.permute_dims.size(); ++d) perm_[d] = config.permute_dims[d] - 1;
    for (int d = 0; d < 3; ++d) inverse_[size_t(perm_[size_t(d)])] = d;
    for (int d = 0; d < 3; ++d) out_dims_[size_t(d)] = dims_[size_t(perm_[size_t(d)])];
  }
  const char* kind() const override { return "permute"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    scratch(n);
    const float* src = x;
    if (in_.image()) {
      backend_.nchw_to_nhwc(x, a_.data(), n, in_.c, in_.h * in_.w);
      src = a_.data();
    }
    if (!out_.image()) return backend_.permute_axes(src, y, n, dims_, perm_);
    backend_.permute_axes(src, b_.data(), n, dims_, perm_);
    backend_.nhwc_to_nchw(b_.data(), y, n, out_.c, out_.h * out_.w);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (!dx) return;
    scratch(n);
    const float* src = dy;
    if (out_.image()) {
      backend_.nchw_to_nhwc(dy, b_.data(), n, out_.c, out_.h * out_.w);
      src = b_.data();
    }
    if (!in_.image()) return backend_.permute_axes(src, dx, n, out_dims_, inverse_);
    backend_.permute_axes(src, a_.data(), n, out_dims_, inverse_);
    backend_.nhwc_to_nchw(a_.data(), dx, n, in_.c, in_.h * in_.w);
  }

 private:
  // A sample's dimensions in Keras's order, padded with 1s to three.
  static std::array<int, 3> keras_dims(const FeatureShape& s) {
    if (s.flat) return {s.c, 1, 1};
    if (s.seq) return {s.h, s.c, 1};
    return {s.h, s.w, s.c};
  }
  void scratch(int n) {
    const size_t size = size_t(n) * in_.size();
    if (a_.size() < size) {
      a_ = backend_.alloc(size);
      b_ = backend_.alloc(size);
    }
  }
  Backend& backend_;
  std::array<int, 3> dims_{}, out_dims_{}, perm_{0, 1, 2}, inverse_{0, 1, 2};
  Array a_, b_;  // Keras-order copies of the input and output sides
};

// Keras's Embedding: each sample's vector of ids (T) becomes the sequence (T, output_dim) of
// their rows. Keras casts a float id to int32 (truncating 2.7 to 2); here an id must be a whole
// number in [0, input_dim), else the forward stops with the layer, the value and input_dim, since
// a fractional id means the input was scaled, not token ids. The table is held (output_dim,
// input_dim) like a dense kernel, so every export transposes it to Keras's (input_dim,
// output_dim) as it does a dense kernel. The ids take no gradient (dx, when asked, is zeros).
class EmbeddingLayer : public Layer {
 public:
  EmbeddingLayer(const LayerConfig& config, const FeatureShape& in, const FeatureShape& out,
                 Backend& backend, InitSeeds& seeds)
      : backend_(backend) {
    require_op(backend, OptionalOp::embedding, config);
    if (config.mask_zero)
      layer_error(config, "mask_zero true is not supported (repro has no masking); set false");
    name_ = config.name;
    in_ = in;
    out_ = out;
    geometry_.t = static_cast<int>(in.size());
    geometry_.f = config.output_dim;
    geometry_.v = config.input_dim;
    const int64_t v = config.input_dim, f = config.output_dim;
    table_ = make_parameter(backend, name_ + "/embeddings", {f, v}, {v, f},
                            config.embeddings_initializer, seeds);
  }

  const char* kind() const override { return "embedding"; }
  std::vector<Parameter*> parameters() override { return {&table_}; }

  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    const size_t count = size_t(n) * geometry_.t;
    std::vector<float> values(count);
    backend_.download(x, values.data(), count);
    ids_.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const float id = values[i];
      // NaN fails both comparisons; a whole number below input_dim (at most 1e6) is exact.
      if (!(id >= 0.0f && id < static_cast<float>(geometry_.v)) || id != std::floor(id))
        throw InputError(
            "layer '" + name_ + "': id " + id_text(id) + " (sample " +
            std::to_string(ctx.first_image + int64_t(i / size_t(geometry_.t))) +
            " of the batch, position " + std::to_string(i % size_t(geometry_.t)) +
            ") is not a whole number in [0, input_dim = " + std::to_string(geometry_.v) +
            "); embedding inputs are token ids 0 .. input_dim - 1");
      ids_[i] = static_cast<int32_t>(id);
    }
    EmbeddingGeometry g = geometry_;
    g.n = n;
    backend_.embedding_forward(g, ids_.data(), table_.value.data(), y);
    if (ctx.training) {
      training_ids_.swap(ids_);
      training_n_ = n;
    }
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    REPRO_CHECK(n == training_n_, "embedding backward: not the last training forward's batch");
    EmbeddingGeometry g = geometry_;
    g.n = n;
    g.chunk_grads = chunk_grads_;
    Array& dtable = chunk_grads_ ? table_.chunk_grads : table_.grad;
    backend_.embedding_backward(g, training_ids_.data(), dy, dx, dtable.data());
  }

 private:
  static std::string id_text(float id) {
    std::ostringstream out;
    out.precision(9);
    out << id;
    return out.str();
  }

  Backend& backend_;
  EmbeddingGeometry geometry_;               // n = 0: filled per call
  Parameter table_;                          // (output_dim, input_dim)
  std::vector<int32_t> ids_, training_ids_;  // of the last forward, of the last training one
  int training_n_ = -1;
};

class DenseLayer : public WeightedLayer<DenseOp, DenseGeometry> {
 public:
  DenseLayer(const LayerConfig& config, bool last, const FeatureShape& in, const FeatureShape& out,
             Backend& backend, InitSeeds& seeds)
      : WeightedLayer(backend) {
    name_ = config.name;
    in_ = in;
    if (config.activation == Activation::softmax && !last)
      layer_error(config, "softmax is supported only on the last layer (the loss applies it)");
    if (config.units <= 0) layer_error(config, "units must be positive");
    geometry_.in = in.c;
    geometry_.out = config.units;
    geometry_.bias = config.use_bias;
    geometry_.relu = config.activation == Activation::relu;
    set_activation(config);
    out_ = out;
    const int64_t i = geometry_.in, o = geometry_.out;
    kernel_ = make_parameter(backend, name_ + "/kernel", {o, i}, {i, o}, config.kernel_initializer,
                             seeds);
    if (config.use_bias)
      bias_ = make_parameter(backend, name_ + "/bias", {o}, {o}, config.bias_initializer, seeds);
  }

  const char* kind() const override { return "dense"; }

 protected:
  std::unique_ptr<DenseOp> make_op(int n) override {
    DenseGeometry g = geometry_;
    g.n = n;
    g.chunk_grads = chunk_grads_;
    return backend_.make_dense(g);
  }
};

// Keras's TimeDistributed(Dense): the dense layer on every timestep of a sequence (T, F), one op
// over the N * T rows. Where the backend keeps the chunk rule, so do its weight gradients: the
// op sums each 8 rows, the rows of each 8-image chunk (T row chunks, in order) fold into that
// chunk's gradient, and the chunks fold in order (acc = g_0; acc += g_c), so any thread or rank
// split gives the same bits. (The reference backend sums in sample order, as its dense does.)
// Weights "<name>/kernel" and "<name>/bias", Keras's inner Dense's layout.
class TimeDistributedDenseLayer : public DenseLayer {
 public:
  TimeDistributedDenseLayer(const LayerConfig& config, const FeatureShape& in,
                            const FeatureShape& out, Backend& backend, InitSeeds& seeds)
      : DenseLayer(dense_part(config), false, in, out, backend, seeds),
        steps_(in.h),
        chunked_(backend.chunk_grads_supported()) {}

  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    if (!chunked_) {
      DenseLayer::backward(x, y, dy, dx, n);
      return;
    }
    const size_t rows = size_t(chunk_count(n * steps_));
    if (row_dw_.size() < rows * kernel_.size()) row_dw_ = backend_.alloc(rows * kernel_.size());
    if (geometry_.bias && row_db_.size() < rows * bias_.size())
      row_db_ = backend_.alloc(rows * bias_.size());
    backward_into(x, y, dy, dx, n, row_dw_.data(), geometry_.bias ? row_db_.data() : nullptr);
    fold(row_dw_, kernel_, n);
    if (geometry_.bias) fold(row_db_, bias_, n);
  }

 private:
  static LayerConfig dense_part(const LayerConfig& config) {
    LayerConfig part = config.wrapped.at(0);
    part.name = config.name;
    part.place = config.place;
    return part;
  }
  std::unique_ptr<DenseOp> make_op(int n) override {
    DenseGeometry g = geometry_;
    g.n = n * steps_;
    g.chunk_grads = chunked_;
    return backend_.make_dense(g);
  }
  // The 8-row sums in `rows` to p's per-image-chunk gradients, or their fold into p.grad.
  void fold(const Array& rows, Parameter& p, int n) {
    const size_t size = p.size(), row_count = size_t(chunk_count(n * steps_));
    const int chunks = chunk_count(n);
    host_rows_.resize(row_count * size);
    backend_.download(rows.data(), host_rows_.data(), host_rows_.size());
    host_out_.assign((chunk_grads_ ? size_t(chunks) : 1) * size, 0.0f);
    std::vector<float>& sum = host_sum_;
    sum.resize(size);
    for (int c = 0; c < chunks; ++c) {
      // Image chunk c: images [8c, min(8c + 8, n)), rows from 8c * T, so row chunks from c * T.
      const size_t first = size_t(c) * steps_;
      const size_t end = size_t(chunk_count(std::min(kChunk * (c + 1), n) * steps_));
      std::copy_n(host_rows_.data() + first * size, size, sum.data());
      for (size_t r = first + 1; r < end; ++r)
        for (size_t j = 0; j < size; ++j) sum[j] += host_rows_[r * size + j];
      float* out = host_out_.data() + (chunk_grads_ ? size_t(c) * size : 0);
      for (size_t j = 0; j < size; ++j) out[j] = chunk_grads_ || c == 0 ? sum[j] : out[j] + sum[j];
    }
    backend_.upload(host_out_.data(), (chunk_grads_ ? p.chunk_grads : p.grad).data(),
                    host_out_.size());
  }

  int steps_;
  bool chunked_;           // the backend sums weight gradients per chunk
  Array row_dw_, row_db_;  // (ceil(N * T / 8), ...): the op's 8-row sums
  std::vector<float> host_rows_, host_out_, host_sum_;  // fold's buffers, kept between calls
};

}  // namespace

MergeLayer::MergeLayer(const LayerConfig& config, const std::vector<FeatureShape>& ins,
                       const FeatureShape& out, Backend& backend)
    : backend_(backend), merge_(config.kind), ins_(ins) {
  require_op(backend, OptionalOp::merge, config);
  name_ = config.name;
  in_ = ins[0];
  out_ = out;
}

void MergeLayer::forward(const float*, float*, int, const ForwardContext&) {
  REPRO_CHECK(false, "a merge layer runs through merge_forward");
}

void MergeLayer::backward(const float*, const float*, float*, float*, int) {
  REPRO_CHECK(false, "a merge layer runs through merge_backward");
}

namespace {

MergeFn merge_fn(LayerKind kind) {
  switch (kind) {
    case LayerKind::subtract: return MergeFn::subtract;
    case LayerKind::multiply: return MergeFn::multiply;
    case LayerKind::average: return MergeFn::average;
    case LayerKind::maximum: return MergeFn::maximum;
    case LayerKind::minimum: return MergeFn::minimum;
    default: return MergeFn::add;
  }
}

}  // namespace

void MergeLayer::merge_forward(const std::vector<const float*>& xs, float* y, int n) {
  if (merge_ == LayerKind::concatenate) {
    std::vector<int> channels;
    for (const FeatureShape& s : ins_) channels.push_back(s.c);
    backend_.concat_forward(xs, channels, n, in_.h * in_.w, y);
  } else {
    backend_.merge_forward(merge_fn(merge_), xs, y, size_t(n) * out_.size());
  }
}

void MergeLayer::merge_backward(const std::vector<const float*>& xs, const float* dy,
                                const std::vector<float*>& dxs, int n) {
  if (merge_ == LayerKind::concatenate) {
    std::vector<int> channels;
    for (const FeatureShape& s : ins_) channels.push_back(s.c);
    backend_.concat_backward(dy, dxs, channels, n, in_.h * in_.w);
  } else {
    backend_.merge_backward(merge_fn(merge_), xs, dy, dxs, size_t(n) * out_.size());
  }
}

std::unique_ptr<Layer> make_layer(const LayerConfig& config, int index, bool last,
                                  const FeatureShape& in, const FeatureShape& out, Backend& backend,
                                  InitSeeds& seeds) {
  switch (config.kind) {
    case LayerKind::conv2d: return std::make_unique<Conv2dLayer>(config, in, out, backend, seeds);
    case LayerKind::depthwise_conv2d:
      return std::make_unique<DepthwiseConv2dLayer>(config, in, out, backend, seeds);
    case LayerKind::separable_conv2d:
      return std::make_unique<SeparableConv2dLayer>(config, in, out, backend, seeds);
    case LayerKind::simple_rnn:
    case LayerKind::lstm:
    case LayerKind::gru:
      return std::make_unique<RecurrentLayer>(config, index, in, out, backend, seeds);
    case LayerKind::bidirectional:
      return std::make_unique<BidirectionalLayer>(config, index, in, out, backend, seeds);
    case LayerKind::time_distributed:
      return std::make_unique<TimeDistributedDenseLayer>(config, in, out, backend, seeds);
    case LayerKind::max_pooling2d:
      return std::make_unique<MaxPool2dLayer>(config, in, out, backend);
    case LayerKind::dropout: return std::make_unique<DropoutLayer>(config, index, in, out, backend);
    case LayerKind::global_average_pooling2d:
      return std::make_unique<GlobalAvgPoolLayer>(config, in, out, backend);
    case LayerKind::global_max_pooling2d:
      return std::make_unique<GlobalMaxPoolLayer>(config, in, out, backend);
    case LayerKind::zero_padding2d:
      return std::make_unique<ZeroPadding2dLayer>(config, in, out, backend);
    case LayerKind::reshape: return std::make_unique<ReshapeLayer>(config, in, out, backend);
    case LayerKind::permute: return std::make_unique<PermuteLayer>(config, in, out, backend);
    case LayerKind::embedding:
      return std::make_unique<EmbeddingLayer>(config, in, out, backend, seeds);
    case LayerKind::flatten: return std::make_unique<FlattenLayer>(config, in, out, backend);
    case LayerKind::dense:
      return std::make_unique<DenseLayer>(config, last, in, out, backend, seeds);
    case LayerKind::average_pooling2d:
      return std::make_unique<AvgPool2dLayer>(config, in, out, backend);
    case LayerKind::activation:
      return std::make_unique<ActivationLayer>(config, last, in, out, backend);
    case LayerKind::batch_normalization:
      return std::make_unique<BatchNormLayer>(config, in, out, backend, seeds);
    case LayerKind::layer_normalization:
      return std::make_unique<LayerNormLayer>(config, in, out, backend, seeds);
    case LayerKind::random_flip:
    case LayerKind::random_translation:
    case LayerKind::random_zoom:
      return std::make_unique<AugmentationLayer>(config, index, in, out, backend);
    case LayerKind::add:
    case LayerKind::subtract:
    case LayerKind::multiply:
    case LayerKind::average:
    case LayerKind::maximum:
    case LayerKind::minimum:
    case LayerKind::concatenate:
      layer_error(config, "a merge layer takes several inputs; the model builds it (MergeLayer)");
  }
  layer_error(config, "unknown layer kind");
}

}  // namespace repro
