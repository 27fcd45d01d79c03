// The GPU backend on CUDA + cuDNN, deterministic algorithms only when asked.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

std::unique_ptr<Backend> make_cudnn_backend(const BackendOptions& options);

}  // namespace repro
