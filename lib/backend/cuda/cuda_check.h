// Checked CUDA runtime calls and device memory owned by one object, for every file of the module
// (kernels included). A failed call throws RuntimeError with the call text, the library's error
// string and file:line. cuDNN and cuBLAS have theirs in cudnn_check.h, which only the files that
// use them include. Private to lib/backend/cuda: with its .cpp/.cu files, the only place that
// sees vendor headers.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace repro::cuda {

[[noreturn]] void fail_call(const char* library, const char* call, const char* file, int line,
                            const std::string& why);

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) {
    fail_call("CUDA", call, file, line,
              std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status));
  }
}

}  // namespace repro::cuda

#define REPRO_CUDA(call) ::repro::cuda::check_cuda((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here, not at the next call.
#define REPRO_CUDA_LAUNCHED() REPRO_CUDA(cudaGetLastError())

namespace repro::cuda {

// Device memory owned by one object (scratch buffers of an op); zero-filled.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) { resize(bytes); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Reallocates (contents lost) only when `bytes` exceeds the current size.
  void resize(size_t bytes) {
    if (bytes <= bytes_) return;
    cudaFree(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
    REPRO_CUDA(cudaMalloc(&ptr_, bytes));
    REPRO_CUDA(cudaMemset(ptr_, 0, bytes));
    bytes_ = bytes;
  }
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace repro::cuda
