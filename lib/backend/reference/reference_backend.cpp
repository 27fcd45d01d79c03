// The reference backend object: host memory and thin op objects over the free functions in
// reference_ops.h. Single-threaded on purpose; the `threads` option is ignored.
#include "backend/reference/reference_backend.h"

#include <cstring>
#include <vector>

#include "backend/reference/reference_ops.h"

namespace repro {

namespace {

class ReferenceConv2d : public Conv2dOp {
 public:
  explicit ReferenceConv2d(const ConvGeometry& g) : g_(g) {}
  void forward(const float* x, const float* w, const float* b, float* y) override {
    reference::conv2d_forward(g_, x, w, b, y);
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    reference::conv2d_backward(g_, x, w, y, dy, dx, dw, db);
  }

 private:
  ConvGeometry g_;
};

class ReferenceMaxPool2d : public MaxPool2dOp {
 public:
  explicit ReferenceMaxPool2d(const PoolGeometry& g)
      : g_(g), argmax_(size_t(g.n) * g.c * g.oh * g.ow, -1) {}
  void forward(const float* x, float* y) override {
    reference::max_pool2d_forward(g_, x, y, argmax_.data());
  }
  void backward(const float* dy, float* dx) override {
    reference::max_pool2d_backward(g_, dy, argmax_.data(), dx);
  }

 private:
  PoolGeometry g_;
  std::vector<int32_t> argmax_;  // (N, C, OH, OW) winner of the last forward()
};

class ReferenceDense : public DenseOp {
 public:
  explicit ReferenceDense(const DenseGeometry& g) : g_(g) {}
  void forward(const float* x, const float* w, const float* b, float* y) override {
    reference::dense_forward(g_, x, w, b, y);
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    reference::dense_backward(g_, x, w, y, dy, dx, dw, db);
  }

 private:
  DenseGeometry g_;
};

class ReferenceBackend : public Backend {
 public:
  std::string name() const override { return "reference"; }
  std::string describe() const override { return "reference (naive loops, 1 thread)"; }

  Array alloc(size_t n) override {
    return Array(
        std::shared_ptr<float>(new float[n == 0 ? 1 : n](), std::default_delete<float[]>()), n);
  }
  void upload(const float* host, float* dst, size_t n) override {
    if (n) std::memcpy(dst, host, n * sizeof(float));
  }
  void download(const float* src, float* host, size_t n) override {
    if (n) std::memcpy(host, src, n * sizeof(float));
  }

  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override {
    REPRO_CHECK(!g.chunk_grads, "the reference backend sums weight gradients in sample order only");
    return std::make_unique<ReferenceConv2d>(g);
  }
  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override {
    return std::make_unique<ReferenceMaxPool2d>(g);
  }
  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override {
    REPRO_CHECK(!g.chunk_grads, "the reference backend sums weight gradients in sample order only");
    return std::make_unique<ReferenceDense>(g);
  }

  void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) override {
    reference::global_avg_pool_forward(x, y, n, c, hw);
  }
  void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) override {
    reference::global_avg_pool_backward(dy, dx, n, c, hw);
  }
  void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) override {
    reference::nchw_to_nhwc(x, y, n, c, hw);
  }
  void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) override {
    reference::nhwc_to_nchw(x, y, n, c, hw);
  }
  void activation_forward(ActivationFn f, const float* x, float* y, size_t count) override {
    reference::activation_forward(f, x, y, 0, count);
  }
  void activation_backward(ActivationFn f, const float* y, const float* dy, float* dx,
                           size_t count) override {
    reference::activation_backward(f, y, dy, dx, 0, count);
  }
  void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                          const float* gamma, const float* beta, float* moving_mean,
                          float* moving_variance, float* saved_mean, float* saved_inv_std,
                          float* y) override {
    reference::batch_norm_forward(g, training, x, gamma, beta, moving_mean, moving_variance,
                                  saved_mean, saved_inv_std, y, 0, g.c);
  }
  void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const float* dy,
                           float* dx, float* dgamma, float* dbeta) override {
    reference::batch_norm_backward(g, x, gamma, saved_mean, saved_inv_std, dy, dx, dgamma, dbeta, 0,
                                   g.c);
  }
  void affine_forward(const AffineGeometry& g, const float* transforms, const float* x,
                      float* y) override {
    reference::affine_forward(g, transforms, x, y, 0, g.n);
  }
  void affine_backward(const AffineGeometry& g, const float* transforms, const float* dy,
                       float* dx) override {
    reference::affine_backward(g, transforms, dy, dx, 0, g.n);
  }
  void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) override {
    reference::avg_pool2d_forward(g, x, y);
  }
  void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) override {
    reference::avg_pool2d_backward(g, dy, dx);
  }
  void dropout_forward(const float* x, float* y, size_t count, StreamKey key, float rate) override {
    reference::dropout_forward(x, y, 0, count, key, rate);
  }
  void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                        float rate) override {
    reference::dropout_backward(dy, dx, 0, count, key, rate);
  }
  LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                 float* dlogits, float grad_scale) override {
    return reference::softmax_cross_entropy(logits, labels, n, k, dlogits, grad_scale);
  }
  void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                   const AdamParams& p) override {
    reference::adam_update(w, g, m, v, n, p);
  }
  void sgd_update(float* w, const float* g, float* velocity, size_t n,
                  const SgdParams& p) override {
    reference::sgd_update(w, g, velocity, n, p);
  }
  void rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                      float* average_gradient, size_t n, const RmspropParams& p) override {
    reference::rmsprop_update(w, g, velocity, momentum, average_gradient, n, p);
  }
  void weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate) override {
    reference::weight_decay_update(w, n, weight_decay, learning_rate);
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options) {
  return std::make_unique<ReferenceBackend>();
}

}  // namespace repro
