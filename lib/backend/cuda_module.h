// The GPU backend on CUDA + cuDNN, deterministic algorithms only when asked. It lives in
// librepro_cudnn.so (lib/backend/cuda/), loaded on the first call below (loader/cuda_loader.cpp):
// until a run asks for the GPU, no CUDA, cuBLAS or cuDNN library is mapped. Only builds with
// CUDA have these functions.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"

namespace repro {

// Throws RuntimeError("device cuda: no CUDA device ...") when no GPU or driver is usable, and a
// one-line InputError / RuntimeError naming the module or library when the module cannot load.
std::unique_ptr<Backend> make_cudnn_backend(const BackendOptions& options);

// determinism: portable on the GPU: kernels in the CPU portable backend's operation order
// (docs/design/portable.md), loaded from the same module and throwing as make_cudnn_backend does.
std::unique_ptr<Backend> make_portable_cuda_backend(const BackendOptions& options);

// CUDA devices usable by this process; 0 when the driver is missing or reports an error.
// Loads the module like make_cudnn_backend and throws as it does when the module cannot load.
int cuda_device_count();

// Where the module is looked for: $REPRO_CUDNN_MODULE when set, else librepro_cudnn.so in the
// folder of the running executable.
std::string cudnn_module_path();

}  // namespace repro
