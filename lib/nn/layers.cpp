// The six layer kinds (conv2d, max_pooling2d, dropout, global_average_pooling2d, flatten, dense)
// as thin owners of shapes, parameters and cached backend ops; the arithmetic is the backend's.
// Softmax is not computed here: a final softmax dense layer outputs logits and the loss applies
// the softmax (log-sum-exp from the logits), which is the numerically stable form of the same model.
#include "nn/layers.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "init/initializers.h"
#include "rng/seed_stream.h"

namespace repro {

std::string FeatureShape::str() const {
  std::ostringstream out;
  if (flat) {
    out << "(" << c << ")";
  } else {
    out << "(" << h << ", " << w << ", " << c << ")";
  }
  return out.str();
}

bool initializer_is_random(const std::string& name) {
  return name != "zeros" && name != "ones" && name != "constant";
}

std::vector<float> keras_to_backend(const std::vector<float>& keras,
                                    const std::vector<int64_t>& keras_shape) {
  std::vector<float> out(keras.size());
  if (keras_shape.size() == 4) {
    // (R, S, C, K) -> (K, C, R, S)
    const int64_t r = keras_shape[0], s = keras_shape[1], c = keras_shape[2], k = keras_shape[3];
    for (int64_t ri = 0; ri < r; ++ri)
      for (int64_t si = 0; si < s; ++si)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t ki = 0; ki < k; ++ki)
            out[((ki * c + ci) * r + ri) * s + si] = keras[((ri * s + si) * c + ci) * k + ki];
  } else if (keras_shape.size() == 2) {
    // (IN, OUT) -> (OUT, IN)
    const int64_t in = keras_shape[0], o = keras_shape[1];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j) out[j * in + i] = keras[i * o + j];
  } else {
    out = keras;
  }
  return out;
}

std::vector<float> backend_to_keras(const std::vector<float>& values,
                                    const std::vector<int64_t>& keras_shape) {
  std::vector<float> out(values.size());
  if (keras_shape.size() == 4) {
    const int64_t r = keras_shape[0], s = keras_shape[1], c = keras_shape[2], k = keras_shape[3];
    for (int64_t ri = 0; ri < r; ++ri)
      for (int64_t si = 0; si < s; ++si)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t ki = 0; ki < k; ++ki)
            out[((ri * s + si) * c + ci) * k + ki] = values[((ki * c + ci) * r + ri) * s + si];
  } else if (keras_shape.size() == 2) {
    const int64_t in = keras_shape[0], o = keras_shape[1];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < o; ++j) out[i * o + j] = values[j * in + i];
  } else {
    out = values;
  }
  return out;
}

namespace {

[[noreturn]] void layer_error(const LayerConfig& config, const std::string& message) {
  throw InputError(at_place(config.place.file, config.place.line, config.place.col,
                            "layer '" + config.name + "': " + message));
}

// A parameter drawn by its initializer in Keras layout, stored in the backend's layout.
Parameter make_parameter(Backend& backend, const std::string& name,
                         const std::vector<int64_t>& shape, const std::vector<int64_t>& keras_shape,
                         const InitializerSpec& spec, InitSeeds& seeds) {
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
  p.grad = backend.alloc(values.size());
  backend.upload(values.data(), p.value.data(), values.size());
  return p;
}

// Keras/TF output size and padding: same pads (out-1)*stride + k - in in total, the extra
// cell at the bottom/right; valid keeps only full windows.
void output_and_padding(int in, int k, int stride, Padding padding, int& out, int& before,
                        int& after) {
  if (padding == Padding::same) {
    out = (in + stride - 1) / stride;
    const int total = std::max((out - 1) * stride + k - in, 0);
    before = total / 2;
    after = total - before;
  } else {
    out = in >= k ? (in - k) / stride + 1 : 0;
    before = after = 0;
  }
}

class Conv2dLayer : public Layer {
 public:
  Conv2dLayer(const LayerConfig& config, const FeatureShape& in, Backend& backend,
              InitSeeds& seeds)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    if (in.flat) layer_error(config, "conv2d needs an image input (H, W, C), got " + in.str());
    if (config.activation == Activation::softmax)
      layer_error(config, "conv2d supports activation relu or linear, not softmax");
    geometry_.c = in.c;
    geometry_.h = in.h;
    geometry_.w = in.w;
    geometry_.k = config.filters;
    geometry_.r = config.kernel_size[0];
    geometry_.s = config.kernel_size[1];
    geometry_.stride_h = config.strides[0];
    geometry_.stride_w = config.strides[1];
    output_and_padding(in.h, geometry_.r, geometry_.stride_h, config.padding, geometry_.oh,
                       geometry_.pad_top, geometry_.pad_bottom);
    output_and_padding(in.w, geometry_.s, geometry_.stride_w, config.padding, geometry_.ow,
                       geometry_.pad_left, geometry_.pad_right);
    if (geometry_.oh <= 0 || geometry_.ow <= 0)
      layer_error(config, "kernel " + std::to_string(geometry_.r) + "x" +
                              std::to_string(geometry_.s) + " does not fit the input " + in.str());
    geometry_.bias = config.use_bias;
    geometry_.relu = config.activation == Activation::relu;
    out_ = FeatureShape{geometry_.k, geometry_.oh, geometry_.ow, false};

    const int64_t k = geometry_.k, c = geometry_.c, r = geometry_.r, s = geometry_.s;
    kernel_ = make_parameter(backend, name_ + "/kernel", {k, c, r, s}, {r, s, c, k},
                             config.kernel_initializer, seeds);
    if (config.use_bias)
      bias_ = make_parameter(backend, name_ + "/bias", {k}, {k}, config.bias_initializer, seeds);
  }

  const char* kind() const override { return "conv"; }
  bool takes_channel_blocks() const override { return true; }
  std::vector<Parameter*> parameters() override {
    if (geometry_.bias) return {&kernel_, &bias_};
    return {&kernel_};
  }

  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    op(n).forward(x, kernel_.value.data(), geometry_.bias ? bias_.value.data() : nullptr, y);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    op(n).backward(x, kernel_.value.data(), y, dy, dx, kernel_.grad.data(),
                   geometry_.bias ? bias_.grad.data() : nullptr);
  }

 private:
  Conv2dOp& op(int n) {
    auto& slot = ops_[n];
    if (!slot) {
      ConvGeometry g = geometry_;
      g.n = n;
      g.x_block = in_block_;
      g.y_block = out_block_;
      slot = backend_.make_conv2d(g);
    }
    return *slot;
  }

  Backend& backend_;
  ConvGeometry geometry_;  // n = 0: filled per batch size
  Parameter kernel_, bias_;
  std::map<int, std::unique_ptr<Conv2dOp>> ops_;
};

class MaxPool2dLayer : public Layer {
 public:
  MaxPool2dLayer(const LayerConfig& config, const FeatureShape& in, Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    if (in.flat) layer_error(config, "max_pooling2d needs an image input (H, W, C), got " + in.str());
    geometry_.c = in.c;
    geometry_.h = in.h;
    geometry_.w = in.w;
    geometry_.r = config.pool_size[0];
    geometry_.s = config.pool_size[1];
    geometry_.stride_h = config.strides[0];
    geometry_.stride_w = config.strides[1];
    output_and_padding(in.h, geometry_.r, geometry_.stride_h, config.padding, geometry_.oh,
                       geometry_.pad_top, geometry_.pad_bottom);
    output_and_padding(in.w, geometry_.s, geometry_.stride_w, config.padding, geometry_.ow,
                       geometry_.pad_left, geometry_.pad_right);
    if (geometry_.oh <= 0 || geometry_.ow <= 0)
      layer_error(config, "pool window does not fit the input " + in.str());
    out_ = FeatureShape{in.c, geometry_.oh, geometry_.ow, false};
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

class DropoutLayer : public Layer {
 public:
  DropoutLayer(const LayerConfig& config, int index, const FeatureShape& in, Backend& backend)
      : backend_(backend), index_(index), rate_(static_cast<float>(config.rate)) {
    name_ = config.name;
    in_ = out_ = in;
    if (config.rate < 0 || config.rate >= 1) layer_error(config, "dropout rate must be in [0, 1)");
  }

  const char* kind() const override { return "dropout"; }
  bool identity_in_eval() const override { return true; }
  bool takes_channel_blocks() const override { return !in_.flat; }

  // The mask is keyed by (layer index, global step, plain NCHW element): the same on every
  // backend, layout and thread count. Input and output share one layout (the model sees to it).
  void forward(const float* x, float* y, int n, const ForwardContext& ctx) override {
    key_ = derive_key(ctx.seed, Purpose::dropout, static_cast<uint32_t>(index_),
                      static_cast<uint32_t>(ctx.global_step));
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
  GlobalAvgPoolLayer(const LayerConfig& config, const FeatureShape& in, Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    if (in.flat)
      layer_error(config, "global_average_pooling2d needs an image input (H, W, C), got " + in.str());
    out_ = FeatureShape{in.c, 1, 1, true};
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

// Keras flattens (H, W, C); our activations are (C, H, W), so flatten is a per-image transpose.
class FlattenLayer : public Layer {
 public:
  FlattenLayer(const LayerConfig& config, const FeatureShape& in, Backend& backend)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    out_ = FeatureShape{static_cast<int>(in.size()), 1, 1, true};
  }
  const char* kind() const override { return "flatten"; }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    backend_.nchw_to_nhwc(x, y, n, in_.c, in_.h * in_.w);
  }
  void backward(const float*, const float*, float* dy, float* dx, int n) override {
    if (dx) backend_.nhwc_to_nchw(dy, dx, n, in_.c, in_.h * in_.w);
  }

 private:
  Backend& backend_;
};

class DenseLayer : public Layer {
 public:
  DenseLayer(const LayerConfig& config, bool last, const FeatureShape& in, Backend& backend,
             InitSeeds& seeds)
      : backend_(backend) {
    name_ = config.name;
    in_ = in;
    if (!in.flat)
      layer_error(config, "dense needs a flat input, got " + in.str() +
                              "; add flatten or global_average_pooling2d before it");
    if (config.activation == Activation::softmax && !last)
      layer_error(config, "softmax is supported only on the last layer (the loss applies it)");
    if (config.units <= 0) layer_error(config, "units must be positive");
    geometry_.in = in.c;
    geometry_.out = config.units;
    geometry_.bias = config.use_bias;
    geometry_.relu = config.activation == Activation::relu;
    out_ = FeatureShape{config.units, 1, 1, true};
    const int64_t i = geometry_.in, o = geometry_.out;
    kernel_ = make_parameter(backend, name_ + "/kernel", {o, i}, {i, o},
                             config.kernel_initializer, seeds);
    if (config.use_bias)
      bias_ = make_parameter(backend, name_ + "/bias", {o}, {o}, config.bias_initializer, seeds);
  }

  const char* kind() const override { return "dense"; }
  std::vector<Parameter*> parameters() override {
    if (geometry_.bias) return {&kernel_, &bias_};
    return {&kernel_};
  }
  void forward(const float* x, float* y, int n, const ForwardContext&) override {
    op(n).forward(x, kernel_.value.data(), geometry_.bias ? bias_.value.data() : nullptr, y);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n) override {
    op(n).backward(x, kernel_.value.data(), y, dy, dx, kernel_.grad.data(),
                   geometry_.bias ? bias_.grad.data() : nullptr);
  }

 private:
  DenseOp& op(int n) {
    auto& slot = ops_[n];
    if (!slot) {
      DenseGeometry g = geometry_;
      g.n = n;
      slot = backend_.make_dense(g);
    }
    return *slot;
  }

  Backend& backend_;
  DenseGeometry geometry_;
  Parameter kernel_, bias_;
  std::map<int, std::unique_ptr<DenseOp>> ops_;
};

}  // namespace

std::unique_ptr<Layer> make_layer(const LayerConfig& config, int index, bool last,
                                  const FeatureShape& in, Backend& backend, InitSeeds& seeds) {
  switch (config.kind) {
    case LayerKind::conv2d:
      return std::make_unique<Conv2dLayer>(config, in, backend, seeds);
    case LayerKind::max_pooling2d:
      return std::make_unique<MaxPool2dLayer>(config, in, backend);
    case LayerKind::dropout:
      return std::make_unique<DropoutLayer>(config, index, in, backend);
    case LayerKind::global_average_pooling2d:
      return std::make_unique<GlobalAvgPoolLayer>(config, in, backend);
    case LayerKind::flatten:
      return std::make_unique<FlattenLayer>(config, in, backend);
    case LayerKind::dense:
      return std::make_unique<DenseLayer>(config, last, in, backend, seeds);
  }
  layer_error(config, "unknown layer kind");
}

}  // namespace repro
