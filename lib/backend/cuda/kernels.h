// repro's own CUDA kernels (kernels.cu), as host functions that launch on the default stream.
// Every reduction has a fixed shape (no float atomics), so each result is the same run to run;
// float element ops are compiled without FMA contraction so they round like the CPU code.
// Pointers are device memory; nothing here synchronizes or allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rng/seed_stream.h"

namespace repro::cuda {

// y (OUTER, CHANNELS, INNER) = act(y + b[channel]) in place; b (CHANNELS) or null.
void bias_act_forward(float* y, const float* b, int outer, int channels, int inner, bool relu);
// dy (COUNT) = y > 0 ? dy : 0, in place: the relu mask from the forward output.
void relu_backward(float* dy, const float* y, size_t count);
// db (CHANNELS) = sum of dy (OUTER, CHANNELS, INNER) over OUTER and INNER.
void bias_backward(const float* dy, float* db, int outer, int channels, int inner);

// The spatial geometry shared by the max-pool kernels (planes = N * C).
struct PoolShape {
  int planes, h, w, r, s, stride_h, stride_w, pad_top, pad_left, oh, ow;
};
// y (PLANES, OH, OW) = window max of x (PLANES, H, W); argmax (PLANES, OH, OW) = h * W + w of
// the first maximum in row-major order (-1 when a window holds only padding).
void max_pool_forward(const float* x, float* y, int32_t* argmax, const PoolShape& p);
// dx (PLANES, H, W): each input gathers dy of the outputs whose argmax it is, in output order.
void max_pool_backward(const float* dy, const int32_t* argmax, float* dx, const PoolShape& p);

// xp (PLANES, HP, WP) = x (PLANES, H, W) placed at (top, left), zeros around it.
void pad_planes(const float* x, float* xp, int planes, int h, int w, int hp, int wp, int top,
                int left);
// x (PLANES, H, W) = the window at (top, left) of xp (PLANES, HP, WP): pad_planes backwards.
void crop_planes(const float* xp, float* x, int planes, int h, int w, int hp, int wp, int top,
                 int left);

// y (COUNT) = dropout_keep(key, i, rate) ? x * scale : 0, where scale = 1 / (1 - rate).
void dropout_apply(const float* x, float* y, size_t count, StreamKey key, float rate, float scale);

// Softmax cross-entropy of logits (N, K) with labels (N) on the device. Writes one partial sum
// per block of kLossBlock samples, each reduced in a fixed tree, into sums (2, BLOCKS): the loss
// sums, then the counts of correct samples (exact in double), so one copy brings both back.
// dlogits (N, K) = (softmax - onehot) * grad_scale unless null.
constexpr int kLossBlock = 256;
void softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k, float* dlogits,
                           float grad_scale, double* sums);

// y (N, C) = (sum over HW of x (N, C, HW), in double) / HW; dx (N, C, HW) = dy (N, C) / HW.
void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw);
void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw);

// y (N, HW, C) = x (N, C, HW) per image, and back.
void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw);
void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw);

// Keras 3 Adam with alpha = lr * sqrt(1 - b2^t) / (1 - b1^t) precomputed on the host:
// m += (g - m) * one_minus_b1; v += (g*g - v) * one_minus_b2; w -= m * alpha / (sqrt(v) + eps).
void adam_update(float* w, const float* g, float* m, float* v, size_t n, float alpha,
                 float one_minus_b1, float one_minus_b2, float epsilon);
// Keras 3 SGD (see backend.h); velocity unused when momentum is 0.
void sgd_update(float* w, const float* g, float* velocity, size_t n, float learning_rate,
                float momentum, bool nesterov);

}  // namespace repro::cuda
