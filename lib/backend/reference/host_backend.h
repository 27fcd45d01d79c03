// The base of the CPU backends (reference, onednn, portable): host memory, and every op by the
// reference loops of reference_ops.h, split over images, channels or element ranges on the
// backend's threads so that each value is computed by the same code in the same order for any
// thread count. A CPU backend overrides only the ops it runs its own way. GPU backends do not
// derive from it (cuda/device_backend.h is theirs).
#pragma once

#include <exception>
#include <memory>
#include <string>

#include "backend/backend.h"

namespace repro {

// Runs body(i) for i in [0, count) on `threads` OpenMP threads (static schedule), rethrowing the
// first exception a task threw.
template <class F>
void parallel_for(int threads, int count, F body) {
  std::exception_ptr failure;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int i = 0; i < count; i++) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical
      failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

class HostBackend : public Backend {
 public:
  explicit HostBackend(int threads) : threads_(threads > 0 ? threads : 1) {}

  bool supports(OptionalOp op) const override { return true; }

  // 64-byte aligned (one cache line, one AVX-512 vector) and zero-filled.
  Array alloc(size_t n) override;
  void upload(const float* host, float* dst, size_t n) override;
  void download(const float* src, float* host, size_t n) override;

  // The reference ops; conv and dense sum weight gradients in sample order (no chunk_grads).
  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override;
  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override;
  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override;
  // Images a task for the forward and dx, output channels a task for dw and db (per chunk).
  std::unique_ptr<Conv2dOp> make_depthwise_conv2d(const ConvGeometry& g) override;

  // Whole (double sums, tiny next to the convolutions).
  void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) override;
  void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) override;
  // One image a task.
  void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) override;
  void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) override;
  void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) override;
  void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) override;
  void affine_forward(const AffineGeometry& g, const float* transforms, const float* x,
                      float* y) override;
  void affine_backward(const AffineGeometry& g, const float* transforms, const float* dy,
                       float* dx) override;
  // One element range a task (elements are independent).
  void dropout_forward(const float* x, float* y, size_t count, StreamKey key, float rate) override;
  void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                        float rate) override;
  void activation_forward(ActivationFn f, const float* x, float* y, size_t count) override;
  void merge_forward(MergeFn f, const std::vector<const float*>& xs, float* y,
                     size_t count) override;
  void merge_backward(MergeFn f, const std::vector<const float*>& xs, const float* dy,
                      const std::vector<float*>& dxs, size_t count) override;
  void concat_forward(const std::vector<const float*>& xs, const std::vector<int>& channels, int n,
                      int hw, float* y) override;
  void concat_backward(const float* dy, const std::vector<float*>& dxs,
                       const std::vector<int>& channels, int n, int hw) override;
  void accumulate(float* dst, const float* src, size_t count) override;
  void global_max_pool_forward(const float* x, float* y, int n, int c, int hw) override;
  void global_max_pool_backward(const float* x, const float* y, const float* dy, float* dx, int n,
                                int c, int hw) override;
  void zero_pad2d_forward(const float* x, float* y, int n, int c, int h, int w,
                          const std::array<int, 4>& pad) override;
  void zero_pad2d_backward(const float* dy, float* dx, int n, int c, int h, int w,
                           const std::array<int, 4>& pad) override;
  void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy,
                           float* dx, size_t count) override;
  // One channel a task, each whole (its batch sums in chunk order).
  void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                          const float* gamma, const float* beta, float* moving_mean,
                          float* moving_variance, float* saved_mean, float* saved_inv_std,
                          float* y) override;
  // One image a task.
  void permute_axes(const float* x, float* y, int n, const std::array<int, 3>& dims,
                    const std::array<int, 3>& perm) override;
  // Images a task for the forward, 8 features a task for the table's gradient.
  void embedding_forward(const EmbeddingGeometry& g, const int32_t* ids, const float* table,
                         float* y) override;
  void embedding_backward(const EmbeddingGeometry& g, const int32_t* ids, const float* dy,
                          float* dx, float* dtable) override;
  // Images a task for the forward and the backward through time, weight rows a task for the
  // weight gradients.
  void recurrent_forward(const RecurrentGeometry& g, const float* x, const float* kernel,
                         const float* recurrent, const float* bias, const float* input_masks,
                         const float* recurrent_masks, float* y, float* saved) override;
  void recurrent_backward(const RecurrentGeometry& g, const float* x, const float* kernel,
                          const float* recurrent, const float* input_masks,
                          const float* recurrent_masks, const float* saved, const float* dy,
                          float* dscratch, float* dx, float* dkernel, float* drecurrent,
                          float* dbias) override;
  // Images a task for the forward and dx, channels a task for dgamma and dbeta.
  void layer_norm_forward(const LayerNormGeometry& g, const float* x, const float* gamma,
                          const float* beta, float* saved_mean, float* saved_inv_std,
                          float* y) override;
  void layer_norm_backward(const LayerNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const float* dy,
                           float* dx, float* dgamma, float* dbeta) override;
  void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const float* dy,
                           float* dx, float* dgamma, float* dbeta) override;
  // Whole, in sample and element order.
  LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                 float* dlogits, float grad_scale) override;
  void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                   const AdamParams& p) override;
  void sgd_update(float* w, const float* g, float* velocity, size_t n, const SgdParams& p) override;
  void rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                      float* average_gradient, size_t n, const RmspropParams& p) override;
  void weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate) override;

 protected:
  // Batch normalization's per-chunk sums, the reference's (reference_ops.h) unless a subclass
  // puts in a faster function with the same bits (TunedHostBackend).
  virtual void batch_norm_sums(const BatchNormGeometry& g, const float* x, const float* mean,
                               double* sums, int c0, int c1);
  virtual void batch_norm_grad_sums(const BatchNormGeometry& g, const float* x,
                                    const float* saved_mean, const float* saved_inv_std,
                                    const float* dy, double* sums, int c0, int c1);

  // body(begin, end) over [0, count) cut into one contiguous range per thread.
  template <class F>
  void in_ranges(size_t count, F body) {
    const size_t per = (count + size_t(threads_) - 1) / size_t(threads_);
    parallel_for(threads_, threads_, [&](int t) {
      const size_t begin = std::min(count, size_t(t) * per), end = std::min(count, begin + per);
      if (begin < end) body(begin, end);
    });
  }

  int threads_;  // the threads of the loops above
};

}  // namespace repro
