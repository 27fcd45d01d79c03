// The reference kernels as free functions (llm.c style X_forward / X_backward): naive loops in a
// fixed order, double accumulation, no threads. They are the oracle the tests compare every
// other backend with; the onednn backend reuses the cheap element-wise ones so both agree bitwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "backend/backend.h"

namespace repro::reference {

// Channel ch's gamma and beta gradients of the normalization layers from per-chunk sums
// (chunk_sums(k) gives chunk k's {dgamma, dbeta} as float): each chunk's row of (chunks, C)
// when chunk_grads, else their float fold in chunk order into [ch]. A null output is skipped.
template <class ChunkSums>
void store_scale_shift_grads(bool chunk_grads, int chunks, int c, int ch, ChunkSums chunk_sums,
                             float* dgamma, float* dbeta) {
  float total_gamma = 0.0f, total_beta = 0.0f;
  for (int k = 0; k < chunks; k++) {
    const auto [chunk_gamma, chunk_beta] = chunk_sums(k);
    if (chunk_grads) {
      if (dgamma) dgamma[size_t(k) * c + ch] = chunk_gamma;
      if (dbeta) dbeta[size_t(k) * c + ch] = chunk_beta;
    }
    total_gamma = k == 0 ? chunk_gamma : total_gamma + chunk_gamma;
    total_beta = k == 0 ? chunk_beta : total_beta + chunk_beta;
  }
  if (!chunk_grads) {
    if (dgamma) dgamma[ch] = total_gamma;
    if (dbeta) dbeta[ch] = total_beta;
  }
}

// y = act(conv(x, w) + b): x (N,C,H,W), w (K,C,R,S), b (K) or null, y (N,K,OH,OW).
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b,
                    float* y);
// dy (N,K,OH,OW) is masked by relu'(y) when g.relu; dx (N,C,H,W) or null, dw (K,C,R,S),
// db (K) or null. dy is read only.
void conv2d_backward(const ConvGeometry& g, const float* x, const float* w, const float* y,
                     const float* dy, float* dx, float* dw, float* db);

// Depthwise convolution (ConvGeometry with depth_multiplier DM, k = C * DM, w (DM, C, R, S)):
// the forward and dx for images [b0, b1) (the caller may split images); dw (DM, C, R, S) and
// db (K) for output channels [k0, k1) over the whole batch, per chunk (g.chunk_grads: rows of
// (ceil(N/8), ...)) or folded in chunk order (the caller may split channels). dy is read only.
void depthwise_conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b,
                              float* y, int b0, int b1);
void depthwise_conv2d_input_grad(const ConvGeometry& g, const float* w, const float* y,
                                 const float* dy, float* dx, int b0, int b1);
void depthwise_conv2d_param_grads(const ConvGeometry& g, const float* x, const float* y,
                                  const float* dy, float* dw, float* db, int k0, int k1);

// Embedding (EmbeddingGeometry): y for images [b0, b1); dtable's features [f0, f1) (the caller
// may split features), each chunk's sum over its images, then positions, in order, stored per
// chunk (g.chunk_grads) or folded in chunk order.
void embedding_forward(const EmbeddingGeometry& g, const int32_t* ids, const float* table, float* y,
                       int b0, int b1);
void embedding_table_grad(const EmbeddingGeometry& g, const int32_t* ids, const float* dy,
                          float* dtable, int f0, int f1);

// y (N,C,OH,OW) = window max; argmax (N,C,OH,OW) = index h*W+w of the winner in its plane
// (first in row-major order on ties, padded cells never win).
void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* argmax);
// dx (N,C,H,W) = sum of dy over the windows whose argmax is that cell, in output order.
void max_pool2d_backward(const PoolGeometry& g, const float* dy, const int32_t* argmax, float* dx);

// Average pooling (padded cells not counted): y (N,C,OH,OW) from x (N,C,H,W); dx (N,C,H,W)
// assigned, each window's dy / count added to its cells in output order.
void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y);
void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx);

// y = act(x w^T + b): x (N,IN), w (OUT,IN), b (OUT) or null, y (N,OUT).
void dense_forward(const DenseGeometry& g, const float* x, const float* w, const float* b,
                   float* y);
// dx (N,IN) or null, dw (OUT,IN), db (OUT) or null; dy (N,OUT) masked by relu'(y) when g.relu.
void dense_backward(const DenseGeometry& g, const float* x, const float* w, const float* y,
                    const float* dy, float* dx, float* dw, float* db);

// y (N,C) = mean of x (N,C,HW) over HW; dx (N,C,HW) = dy / HW.
void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw);
void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw);

// x (N,C,HW) -> y (N,HW,C) and back.
void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw);
void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw);

// Batch normalization (backend.h) in phases, each for channels [c0, c1) only (the caller may split
// channels). Chunk sums are (chunks, C) doubles of this process's chunks (the backward's (chunks,
// C, 2): the sums of dy and of dy * xhat); the phases that fold take every chunk of the batch.
// mean null: the sums of x; else of (x - mean)^2.
void batch_norm_chunk_sums(const BatchNormGeometry& g, const float* x, const float* mean,
                           double* sums, int c0, int c1);
// sums[0 * width + j] + sums[1 * width + j] + ... in chunk order, from 0, in double.
double fold_chunk_sums(const double* sums, int chunks, size_t width, size_t j);
void batch_norm_mean(const BatchNormGeometry& g, const double* sums, int chunks, float* mean,
                     int c0, int c1);
// The variance from the squares' sums, Keras's moving-statistics update, inv_std.
void batch_norm_variance(const BatchNormGeometry& g, const double* sums, int chunks,
                         const float* mean, float* moving_mean, float* moving_variance,
                         float* inv_std, int c0, int c1);
// y from the mean and inv_std (training), or from the mean and variance (inv_std null).
void batch_norm_apply(const BatchNormGeometry& g, const float* x, const float* gamma,
                      const float* beta, const float* mean, const float* variance,
                      const float* inv_std, float* y, int c0, int c1);
void batch_norm_grad_sums(const BatchNormGeometry& g, const float* x, const float* saved_mean,
                          const float* saved_inv_std, const float* dy, double* sums, int c0,
                          int c1);
// dgamma, dbeta from this process's chunk sums: per chunk (g.chunk_grads) or folded in float.
void batch_norm_param_grads(const BatchNormGeometry& g, const double* sums, float* dgamma,
                            float* dbeta, int c0, int c1);
void batch_norm_input_grad(const BatchNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const double* sums,
                           int chunks, const float* dy, float* dx, int c0, int c1);
// The phases in one process over the whole batch (no exchange).
void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                        const float* gamma, const float* beta, float* moving_mean,
                        float* moving_variance, float* saved_mean, float* saved_inv_std, float* y,
                        int c0, int c1);
void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                         const float* saved_mean, const float* saved_inv_std, const float* dy,
                         float* dx, float* dgamma, float* dbeta, int c0, int c1);

// Recurrent layers (backend.h): the forward and the backward through time for images [b0, b1)
// (the caller may split images; kernel_t (F, G * U) and recurrent_t (U, G * U) are the weights
// transposed, dz (N, T, G * U) the gates' pre-activation gradients per step), then the weight
// gradients for output rows [j0, j1) of the (G * U, ...) weights (the caller may split rows).
void recurrent_forward_images(const RecurrentGeometry& g, const float* x, const float* kernel_t,
                              const float* recurrent_t, const float* bias, const float* input_masks,
                              const float* recurrent_masks, float* y, float* saved, int b0, int b1);
void recurrent_backward_images(const RecurrentGeometry& g, const float* kernel,
                               const float* recurrent, const float* input_masks,
                               const float* recurrent_masks, const float* saved, const float* dy,
                               float* dz, float* dx, int b0, int b1);
void recurrent_weight_grads(const RecurrentGeometry& g, const float* x, const float* input_masks,
                            const float* recurrent_masks, const float* saved, const float* dz,
                            float* dkernel, float* drecurrent, float* dbias, int j0, int j1);

// Layer normalization (backend.h): the forward and dx for images [b0, b1) (the caller may split
// images); dgamma / dbeta for channels [c0, c1) over the whole batch (the caller may split
// channels).
void layer_norm_forward(const LayerNormGeometry& g, const float* x, const float* gamma,
                        const float* beta, float* saved_mean, float* saved_inv_std, float* y,
                        int b0, int b1);
void layer_norm_input_grad(const LayerNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const float* dy,
                           float* dx, int b0, int b1);
void layer_norm_param_grads(const LayerNormGeometry& g, const float* x, const float* saved_mean,
                            const float* saved_inv_std, const float* dy, float* dgamma,
                            float* dbeta, int c0, int c1);

// Affine resampling (backend.h) of images [b0, b1) of the batch (the caller may split images).
// affine_pixel: output pixel (y, x)'s value for one channel's plane `in` under transform t:
// acc = 0, then acc += weight * value for each tap in order (the four bilinear corners, row-major,
// or the nearest cell), a tap outside the image through the fill mode.
float affine_pixel(const AffineGeometry& g, const float* t, const float* in, int y, int x);
void affine_forward(const AffineGeometry& g, const float* transforms, const float* x, float* y,
                    int b0, int b1);
void affine_backward(const AffineGeometry& g, const float* transforms, const float* dy, float* dx,
                     int b0, int b1);

// Element-wise activations over [begin, end) (the caller may split the range); y may be x.
void activation_forward(ActivationFn f, const float* x, float* y, size_t begin, size_t end);
// dx = dy * f'(x) from the forward's input x or output y (Backend::activation_backward says which
// each reads) over [begin, end); dx may be dy.
void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy, float* dx,
                         size_t begin, size_t end);

// Inverted dropout over elements [begin, end) of the stream (the caller may split the range).
void dropout_forward(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate);
void dropout_backward(const float* dy, float* dx, size_t begin, size_t end, StreamKey key,
                      float rate);

// Per-sample cross-entropy of softmax(logits (N,K)) against labels (N), summed over the batch
// in sample order in double; dlogits (N,K) = (softmax - onehot) * grad_scale unless null.
LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                               float* dlogits, float grad_scale);

// Keras 3 update rules in float32 with Keras's op order (see optimizers.cpp).
void adam_update(float* w, const float* g, float* m, float* v, size_t n, const AdamParams& p);
void sgd_update(float* w, const float* g, float* velocity, size_t n, const SgdParams& p);
void rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                    float* average_gradient, size_t n, const RmspropParams& p);
void weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate);

}  // namespace repro::reference
