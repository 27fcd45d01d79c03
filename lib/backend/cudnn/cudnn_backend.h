// The GPU backend on CUDA + cuDNN, deterministic algorithms only when asked.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

// Throws RuntimeError("device cuda: no CUDA device ...") when no GPU or driver is usable.
std::unique_ptr<Backend> make_cudnn_backend(const BackendOptions& options);

// CUDA devices usable by this process; 0 when the driver is missing or reports an error.
int cuda_device_count();

}  // namespace repro
