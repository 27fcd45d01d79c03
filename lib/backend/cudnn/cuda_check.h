// Checked CUDA / cuDNN / cuBLAS calls and RAII owners for every handle and descriptor.
// A failed call throws RuntimeError with the call text, the library's error string and file:line.
// Private to lib/backend/cudnn: the only place (with its .cpp/.cu files) that sees vendor headers.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

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

inline void check_cudnn(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS)
    fail_call("cuDNN", call, file, line, cudnnGetErrorString(status));
}

inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    fail_call("cuBLAS", call, file, line, cublasGetStatusString(status));
  }
}

}  // namespace repro::cuda

#define REPRO_CUDA(call) ::repro::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define REPRO_CUDNN(call) ::repro::cuda::check_cudnn((call), #call, __FILE__, __LINE__)
#define REPRO_CUBLAS(call) ::repro::cuda::check_cublas((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here, not at the next call.
#define REPRO_CUDA_LAUNCHED() REPRO_CUDA(cudaGetLastError())

namespace repro::cuda {

// One owner per vendor handle type: create in the constructor, destroy in the destructor,
// never copied. Destroy errors are ignored (a destructor must not throw).
#define REPRO_CUDA_OWNER(Name, Type, create, destroy) \
  class Name {                                        \
   public:                                            \
    Name() { create; }                                \
    ~Name() { destroy(handle_); }                     \
    Name(const Name&) = delete;                       \
    Name& operator=(const Name&) = delete;            \
    Type get() const { return handle_; }              \
                                                      \
   private:                                           \
    Type handle_ = nullptr;                           \
  };

REPRO_CUDA_OWNER(CudnnHandle, cudnnHandle_t, REPRO_CUDNN(cudnnCreate(&handle_)), cudnnDestroy)
REPRO_CUDA_OWNER(CublasHandle, cublasHandle_t, REPRO_CUBLAS(cublasCreate(&handle_)), cublasDestroy)
REPRO_CUDA_OWNER(TensorDesc, cudnnTensorDescriptor_t,
                 REPRO_CUDNN(cudnnCreateTensorDescriptor(&handle_)), cudnnDestroyTensorDescriptor)
REPRO_CUDA_OWNER(FilterDesc, cudnnFilterDescriptor_t,
                 REPRO_CUDNN(cudnnCreateFilterDescriptor(&handle_)), cudnnDestroyFilterDescriptor)
REPRO_CUDA_OWNER(ConvDesc, cudnnConvolutionDescriptor_t,
                 REPRO_CUDNN(cudnnCreateConvolutionDescriptor(&handle_)),
                 cudnnDestroyConvolutionDescriptor)

#undef REPRO_CUDA_OWNER

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
