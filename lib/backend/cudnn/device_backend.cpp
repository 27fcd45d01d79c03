// Device checks and device memory for the backends of the CUDA module (device_backend.h).
#include "backend/cudnn/device_backend.h"

#include <memory>
#include <string>

#include "backend/cudnn/cuda_check.h"
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

}  // namespace repro::cuda
