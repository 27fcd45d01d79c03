// Device checks and device memory for the backends of the CUDA module (device_backend.h).
#include "backend/cuda/device_backend.h"

#include <memory>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "core/error.h"

namespace repro::cuda {

void require_device() {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    const std::string why = status != cudaSuccess ? std::string(cudaGetErrorName(status)) + ": " +
                                                        cudaGetErrorString(status)
                                                  : "the driver reports 0 devices";
    cudaGetLastError();  // clear the sticky error of the failed query
    throw RuntimeError("device cuda: no CUDA device (" + why +
                       "); run on a machine with an NVIDIA GPU and driver, or use device: cpu");
  }
}

Array DeviceBackend::alloc(size_t n) {
  if (n == 0) return Array();
  float* ptr = nullptr;
  REPRO_CUDA(cudaMalloc(&ptr, n * sizeof(float)));
  std::shared_ptr<float> owner(ptr, [](float* p) { cudaFree(p); });
  REPRO_CUDA(cudaMemset(ptr, 0, n * sizeof(float)));
  return Array(std::move(owner), n);
}

void DeviceBackend::upload(const float* host, float* dst, size_t n) {
  if (n > 0) REPRO_CUDA(cudaMemcpy(dst, host, n * sizeof(float), cudaMemcpyHostToDevice));
}

void DeviceBackend::download(const float* src, float* host, size_t n) {
  if (n > 0) REPRO_CUDA(cudaMemcpy(host, src, n * sizeof(float), cudaMemcpyDeviceToHost));
}

void DeviceBackend::global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) {
  cuda::global_avg_pool_backward(dy, dx, n, c, hw);
}

void DeviceBackend::nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) {
  cuda::nchw_to_nhwc(x, y, n, c, hw);
}

void DeviceBackend::nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) {
  cuda::nhwc_to_nchw(x, y, n, c, hw);
}

void DeviceBackend::dropout_forward(const float* x, float* y, size_t count, StreamKey key,
                                    float rate) {
  cuda::dropout_apply(x, y, count, key, rate, 1.0f / (1.0f - rate));
}

void DeviceBackend::dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                                     float rate) {
  cuda::dropout_apply(dy, dx, count, key, rate, 1.0f / (1.0f - rate));
}

void DeviceBackend::sgd_update(float* w, const float* g, float* velocity, size_t n,
                               const SgdParams& p) {
  REPRO_CHECK(p.momentum == 0.0f || velocity != nullptr,
              "sgd with momentum needs a velocity buffer");
  cuda::sgd_update(w, g, velocity, n, p.learning_rate, p.momentum, p.nesterov);
}

void DeviceBackend::check_labels(const int32_t* labels, int n, int k) {
  for (int i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= k)
      throw InputError("label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                       " is outside the model's " + std::to_string(k) +
                       " classes; check the dataset or the last layer's units");
}

}  // namespace repro::cuda
