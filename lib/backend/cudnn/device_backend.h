// What every backend in the CUDA module shares: the check that a device is usable, and device
// memory (alloc, upload, download on the default stream). Private to lib/backend/cudnn.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro::cuda {

// Throws RuntimeError("device cuda: no CUDA device ...") when no GPU or driver is usable.
void require_device();

class DeviceBackend : public Backend {
 public:
  Array alloc(size_t n) override;  // zero-filled device memory
  void upload(const float* host, float* dst, size_t n) override;
  void download(const float* src, float* host, size_t n) override;
};

// determinism: portable on the GPU (portable_cuda_backend.cpp).
std::unique_ptr<Backend> make_portable_backend(const BackendOptions& options);

}  // namespace repro::cuda
