// determinism: portable on the GPU: the op objects over portable_kernels.cu (one thread per
// output, the CPU portable backend's operation order) and the element ops shared with the cuDNN
// backend (dropout, max pool, transposes, Adam, SGD), which already round like the CPU code.
// Tested against the CPU portable bits by the [cuda] tests when a GPU is present.
#include <cmath>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_backend.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/portable_kernels.h"
#include "backend/portable/portable_math.h"
#include "core/error.h"

namespace repro::cuda {

namespace {

class PortableConv2d final : public Conv2dOp {
 public:
  explicit PortableConv2d(const ConvGeometry& g)
      : g_(g),
        dw_parts_(sizeof(float) * size_t(chunk_count(g.n)) * g.k * g.c * g.r * g.s),
        db_parts_(sizeof(float) * size_t(chunk_count(g.n)) * g.k) {
    REPRO_CHECK(g.x_block == 1 && g.y_block == 1, "portable cuda: conv takes plain NCHW only");
  }
  void forward(const float* x, const float* w, const float* b, float* y) override {
    portable::conv_forward(g_, x, w, b, y);
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    if (g_.relu) relu_backward(dy, y, size_t(g_.n) * g_.k * g_.oh * g_.ow);
    float* dw_parts = static_cast<float*>(dw_parts_.get());
    float* db_parts = g_.bias && db ? static_cast<float*>(db_parts_.get()) : nullptr;
    portable::conv_weight_grad_parts(g_, x, dy, dw_parts, db_parts);
    const int chunks = g_.chunk_grads ? 1 : chunk_count(g_.n);  // chunk_grads: copied unfolded
    const size_t parts = g_.chunk_grads ? size_t(chunk_count(g_.n)) : 1;
    portable::fold_chunks(dw_parts, dw, chunks, parts * g_.k * g_.c * g_.r * g_.s);
    if (db_parts) portable::fold_chunks(db_parts, db, chunks, parts * g_.k);
    if (dx) portable::conv_backward_data(g_, dy, w, dx);
  }

 private:
  ConvGeometry g_;
  DeviceBuffer dw_parts_;  // (CHUNKS, K, C, R, S)
  DeviceBuffer db_parts_;  // (CHUNKS, K)
};

class PortableDense final : public DenseOp {
 public:
  explicit PortableDense(const DenseGeometry& g)
      : g_(g),
        dw_parts_(sizeof(float) * size_t(chunk_count(g.n)) * g.out * g.in),
        db_parts_(sizeof(float) * size_t(chunk_count(g.n)) * g.out) {}
  void forward(const float* x, const float* w, const float* b, float* y) override {
    portable::dense_forward(g_, x, w, b, y);
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    if (g_.relu) relu_backward(dy, y, size_t(g_.n) * g_.out);
    float* dw_parts = static_cast<float*>(dw_parts_.get());
    float* db_parts = static_cast<float*>(db_parts_.get());
    portable::dense_weight_grad_parts(g_, x, dy, dw_parts, db_parts);
    const int chunks = g_.chunk_grads ? 1 : chunk_count(g_.n);  // chunk_grads: copied unfolded
    const size_t parts = g_.chunk_grads ? size_t(chunk_count(g_.n)) : 1;
    portable::fold_chunks(dw_parts, dw, chunks, parts * g_.out * g_.in);
    if (g_.bias && db) portable::fold_chunks(db_parts, db, chunks, parts * g_.out);
    if (dx) portable::dense_backward_data(g_, dy, w, dx);
  }

 private:
  DenseGeometry g_;
  DeviceBuffer dw_parts_;  // (CHUNKS, OUT, IN)
  DeviceBuffer db_parts_;  // (CHUNKS, OUT)
};

class PortableMaxPool2d final : public MaxPool2dOp {
 public:
  explicit PortableMaxPool2d(const PoolGeometry& g)
      : shape_{g.n * g.c,  g.h,       g.w,        g.r,  g.s, g.stride_h,
               g.stride_w, g.pad_top, g.pad_left, g.oh, g.ow},
        argmax_(sizeof(int32_t) * size_t(g.n) * g.c * g.oh * g.ow) {}
  void forward(const float* x, float* y) override {
    max_pool_forward(x, y, static_cast<int32_t*>(argmax_.get()), shape_);
  }
  void backward(const float* dy, float* dx) override {
    max_pool_backward(dy, static_cast<const int32_t*>(argmax_.get()), dx, shape_);
  }

 private:
  PoolShape shape_;
  DeviceBuffer argmax_;  // (N*C, OH, OW)
};

class PortableCudaBackend final : public DeviceBackend {
 public:
  explicit PortableCudaBackend(const BackendOptions&) { require_device(); }

  std::string name() const override { return "portable_cuda"; }
  bool chunk_grads_supported() const override { return true; }
  std::string describe() const override {
    int device = 0;
    cudaDeviceProp prop{};
    REPRO_CUDA(cudaGetDevice(&device));
    REPRO_CUDA(cudaGetDeviceProperties(&prop, device));
    return std::string("portable (CUDA kernels in the portable order, ") + prop.name + ")";
  }

  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override {
    return std::make_unique<PortableConv2d>(g);
  }
  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override {
    return std::make_unique<PortableMaxPool2d>(g);
  }
  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override {
    return std::make_unique<PortableDense>(g);
  }

  void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) override {
    portable::global_avg_pool_forward(x, y, n, c, hw);
  }
  // Per-sample losses on the device, summed here in sample order in double (as on the CPU).
  LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                 float* dlogits, float grad_scale) override {
    LossSums sums;
    if (n == 0) return sums;
    check_labels(labels, n, k);
    labels_.resize(sizeof(int32_t) * size_t(n));
    losses_.resize(sizeof(float) * size_t(n));
    hits_.resize(sizeof(int32_t) * size_t(n));
    REPRO_CUDA(cudaMemcpy(labels_.get(), labels, sizeof(int32_t) * n, cudaMemcpyHostToDevice));
    portable::softmax_cross_entropy(logits, static_cast<const int32_t*>(labels_.get()), n, k,
                                    dlogits, grad_scale, static_cast<float*>(losses_.get()),
                                    static_cast<int32_t*>(hits_.get()));
    std::vector<float> losses(n);
    std::vector<int32_t> hits(n);
    REPRO_CUDA(cudaMemcpy(losses.data(), losses_.get(), sizeof(float) * n, cudaMemcpyDeviceToHost));
    REPRO_CUDA(cudaMemcpy(hits.data(), hits_.get(), sizeof(int32_t) * n, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      sums.loss += double(losses[i]);
      sums.correct += hits[i];
    }
    return sums;
  }

  // The scalars as the CPU portable backend computes them: beta^t by squaring in double.
  void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                   const AdamParams& p) override {
    const repro::portable::AdamScalars k =
        repro::portable::adam_scalars(p.learning_rate, p.beta_1, p.beta_2, p.step);
    cuda::adam_update(w, g, m, v, n, k.alpha, k.one_minus_beta_1, k.one_minus_beta_2, p.epsilon);
  }

 private:
  DeviceBuffer labels_;  // (N) int32
  DeviceBuffer losses_;  // (N) float
  DeviceBuffer hits_;    // (N) int32
};

}  // namespace

std::unique_ptr<Backend> make_portable_backend(const BackendOptions& options) {
  return std::make_unique<PortableCudaBackend>(options);
}

}  // namespace repro::cuda
