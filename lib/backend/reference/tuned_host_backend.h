// The base of the fast CPU backends (onednn, portable): HostBackend with some reference loops
// rearranged for speed, each giving the reference loop's bits exactly (the same float and double
// operations on every value, in the same order per value). The reference backend keeps the plain
// loops as the oracle; the backends' tests compare the two bit for bit.
//   - batch normalization's chunk sums: the chunks' sums of a channel run side by side, each
//     still in its own image-then-position order, so their adds overlap instead of waiting on
//     one another;
//   - average pooling whose windows tile the input (stride = window, no padding): one pass with
//     no window bookkeeping;
//   - affine resampling (the augmentation layers): a pixel whose cells lie inside the image reads
//     them directly, without the fill mode's index arithmetic;
//   - the activation gradients that select (relu, elu, leaky_relu, hard_sigmoid): both sides
//     loaded, then selected, which vectorizes where a branch on the sign did not.
#pragma once

#include "backend/reference/host_backend.h"

namespace repro {

class TunedHostBackend : public HostBackend {
 public:
  using HostBackend::HostBackend;

  void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) override;
  void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) override;
  void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy,
                           float* dx, size_t count) override;
  void affine_forward(const AffineGeometry& g, const float* transforms, const float* x,
                      float* y) override;

 protected:
  void batch_norm_sums(const BatchNormGeometry& g, const float* x, const float* mean, double* sums,
                       int c0, int c1) override;
  void batch_norm_grad_sums(const BatchNormGeometry& g, const float* x, const float* saved_mean,
                            const float* saved_inv_std, const float* dy, double* sums, int c0,
                            int c1) override;
};

}  // namespace repro
