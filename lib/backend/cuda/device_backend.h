// What every backend in the CUDA module shares: the check that a device is usable, device memory
// (alloc, upload, download on the default stream), and the ops both GPU backends run with the
// same kernels (kernels.h). Private to lib/backend/cuda.
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

  void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) override;
  void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) override;
  void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) override;
  // The keep bits of rng/seed_stream.h drawn on the device; the backward draws them again.
  void dropout_forward(const float* x, float* y, size_t count, StreamKey key, float rate) override;
  void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                        float rate) override;
  void sgd_update(float* w, const float* g, float* velocity, size_t n, const SgdParams& p) override;

 protected:
  // InputError naming the first label outside [0, k) (labels on the host).
  static void check_labels(const int32_t* labels, int n, int k);
};

// determinism: portable on the GPU (portable_cuda_backend.cpp).
std::unique_ptr<Backend> make_portable_backend(const BackendOptions& options);

}  // namespace repro::cuda
