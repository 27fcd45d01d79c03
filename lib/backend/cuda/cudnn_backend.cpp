// The GPU backend: device memory, the op factories (conv2d on cuDNN, dense on cuBLAS, max pool on
// own kernels) and the element ops on repro's kernels, all on one stream (the default one).
// It does not pick a GPU: it uses the current device (CUDA_VISIBLE_DEVICES chooses).
// Built into librepro_cudnn.so; repro reaches it only through the entry point at the end.
#include "backend/cuda/module.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cuda/context.h"
#include "backend/cuda/device_backend.h"
#include "backend/cuda/kernels.h"
#include "core/error.h"

namespace repro {
namespace cuda {

void fail_call(const char* library, const char* call, const char* file, int line,
               const std::string& why) {
  throw RuntimeError(std::string(library) + " call failed (" + file + ":" + std::to_string(line) +
                     "): " + call + ": " + why);
}

}  // namespace cuda

namespace {

using cuda::Context;
using cuda::DeviceBuffer;

// 1 - beta as Keras gets it: Python's double 1 - (the user's decimal), rounded to float32. The
// shortest decimal of the float32 beta recovers the user's text (0.9f -> "0.9"); this mirrors
// the reference backend so both feed the same constants to the update.
float one_minus(float beta) {
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof(text), beta);
  REPRO_CHECK(ec == std::errc(), "cannot format an Adam beta");
  return static_cast<float>(1.0 - std::stod(std::string(text, end)));
}

std::string version_text(int v, int major_div, int minor_div) {
  return std::to_string(v / major_div) + "." + std::to_string(v % major_div / minor_div);
}

class CudnnMaxPool2d final : public MaxPool2dOp {
 public:
  explicit CudnnMaxPool2d(const PoolGeometry& g)
      : shape_{g.n * g.c,  g.h,       g.w,        g.r,  g.s, g.stride_h,
               g.stride_w, g.pad_top, g.pad_left, g.oh, g.ow} {
    REPRO_CHECK(g.n > 0 && g.c > 0 && g.oh > 0 && g.ow > 0 && g.stride_h > 0 && g.stride_w > 0,
                "max_pool2d: every dimension and stride must be positive");
    argmax_.resize(sizeof(int32_t) * static_cast<size_t>(shape_.planes) * g.oh * g.ow);
  }

  void forward(const float* x, float* y) override {
    cuda::max_pool_forward(x, y, static_cast<int32_t*>(argmax_.get()), shape_);
  }

  void backward(const float* dy, float* dx) override {
    cuda::max_pool_backward(dy, static_cast<const int32_t*>(argmax_.get()), dx, shape_);
  }

 private:
  cuda::PoolShape shape_;
  DeviceBuffer argmax_;  // (N*C, OH, OW) flat h * W + w of each window's winner
};

class CudnnBackend final : public cuda::DeviceBackend {
 public:
  explicit CudnnBackend(const BackendOptions& options) {
    cuda::require_device();
    context_ = std::make_shared<Context>();
    context_->deterministic = options.deterministic;
    REPRO_CUBLAS(cublasSetAtomicsMode(context_->cublas.get(), CUBLAS_ATOMICS_NOT_ALLOWED));
    REPRO_CUBLAS(cublasSetMathMode(context_->cublas.get(), options.deterministic
                                                               ? CUBLAS_PEDANTIC_MATH
                                                               : CUBLAS_DEFAULT_MATH));
    REPRO_CUBLAS(cublasSetPointerMode(context_->cublas.get(), CUBLAS_POINTER_MODE_HOST));
  }

  std::string name() const override { return "cudnn"; }

  std::string describe() const override {
    int device = 0, runtime = 0, driver = 0, cublas = 0;
    cudaDeviceProp prop{};
    REPRO_CUDA(cudaGetDevice(&device));
    REPRO_CUDA(cudaGetDeviceProperties(&prop, device));
    REPRO_CUDA(cudaRuntimeGetVersion(&runtime));
    REPRO_CUDA(cudaDriverGetVersion(&driver));
    REPRO_CUBLAS(cublasGetVersion(context_->cublas.get(), &cublas));
    const size_t cudnn = cudnnGetVersion();  // major * 10000 + minor * 100 + patch (cuDNN 9)
    return std::string(prop.name) + ", compute capability " + std::to_string(prop.major) + "." +
           std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) +
           " SMs; CUDA runtime " + version_text(runtime, 1000, 10) + ", driver " +
           version_text(driver, 1000, 10) + "; cuDNN " + std::to_string(cudnn / 10000) + "." +
           std::to_string(cudnn % 10000 / 100) + "." + std::to_string(cudnn % 100) + "; cuBLAS " +
           std::to_string(cublas) + "; " +
           (context_->deterministic
                ? "deterministic (cuDNN deterministic FMA algorithms, no TF32, no atomics)"
                : "nondeterministic (cuDNN's fastest heuristic algorithms, TF32 allowed)");
  }

  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override {
    return cuda::make_conv2d(context_, g);
  }

  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override {
    return std::make_unique<CudnnMaxPool2d>(g);
  }

  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override {
    return cuda::make_dense(context_, g);
  }

  void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) override {
    cuda::global_avg_pool_forward(x, y, n, c, hw);
  }
  LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                 float* dlogits, float grad_scale) override {
    LossSums sums;
    if (n == 0) return sums;
    check_labels(labels, n, k);
    const int blocks = (n + cuda::kLossBlock - 1) / cuda::kLossBlock;
    labels_.resize(sizeof(int32_t) * static_cast<size_t>(n));
    block_sums_.resize(sizeof(double) * 2 * blocks);
    REPRO_CUDA(cudaMemcpy(labels_.get(), labels, sizeof(int32_t) * n, cudaMemcpyHostToDevice));
    cuda::softmax_cross_entropy(logits, static_cast<const int32_t*>(labels_.get()), n, k, dlogits,
                                grad_scale, static_cast<double*>(block_sums_.get()));
    std::vector<double> host(2 * size_t(blocks));  // (2, BLOCKS): losses, then correct counts
    REPRO_CUDA(cudaMemcpy(host.data(), block_sums_.get(), sizeof(double) * host.size(),
                          cudaMemcpyDeviceToHost));
    for (int b = 0; b < blocks; ++b) {  // block order: fixed for a given n
      sums.loss += host[b];
      sums.correct += static_cast<int64_t>(host[blocks + b]);
    }
    return sums;
  }

  void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                   const AdamParams& p) override {
    // The scalars as the reference backend computes them (float32, Keras's order).
    const float t = static_cast<float>(p.step);
    const float b1_power = std::pow(p.beta_1, t);
    const float b2_power = std::pow(p.beta_2, t);
    const float alpha = p.learning_rate * std::sqrt(1.0f - b2_power) / (1.0f - b1_power);
    cuda::adam_update(w, g, m, v, n, alpha, one_minus(p.beta_1), one_minus(p.beta_2), p.epsilon);
  }

 private:
  std::shared_ptr<Context> context_;
  DeviceBuffer labels_;      // (N) int32, grown to the largest batch seen
  DeviceBuffer block_sums_;  // (2, BLOCKS) double: loss sums, correct counts
};

std::unique_ptr<Backend> create_backend(const BackendOptions& options) {
  return std::make_unique<CudnnBackend>(options);
}

int count_devices() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return devices;
}

constexpr cudnn_module::Table kTable{cudnn_module::kInterfaceVersion, &create_backend,
                                     &count_devices, &cuda::make_portable_backend};

}  // namespace
}  // namespace repro

extern "C" const repro::cudnn_module::Table* repro_cudnn_module(int interface_version) {
  return interface_version == repro::cudnn_module::kInterfaceVersion ? &repro::kTable : nullptr;
}
