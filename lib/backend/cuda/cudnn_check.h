// Checked cuDNN and cuBLAS calls and RAII owners for their handles and descriptors, for the files
// that call the libraries (the cuDNN backend's conv and dense). Kernels include cuda_check.h only.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include "backend/cuda/cuda_check.h"

namespace repro::cuda {

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

#define REPRO_CUDNN(call) ::repro::cuda::check_cudnn((call), #call, __FILE__, __LINE__)
#define REPRO_CUBLAS(call) ::repro::cuda::check_cublas((call), #call, __FILE__, __LINE__)

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

}  // namespace repro::cuda
