// repro's own CUDA kernels: bias + relu, relu mask, bias gradient, max pooling with a gather
// backward, padding, dropout, softmax cross-entropy, global average pooling, transposes, Adam, SGD.
// No atomics anywhere: every output element is written by one thread, every sum in a fixed order.
// Built with -fmad=false -prec-div=true -prec-sqrt=true (cmake/cuda.cmake) so element ops round
// exactly like the CPU's float code; only double exp/log (an ulp from the host's libm) and the
// order of a few sums differ from the reference backend.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"

namespace repro::cuda {
namespace {

constexpr int kThreads = 256;

// Grid for a grid-stride loop over `count` elements; results do not depend on the grid size.
unsigned int blocks_for(size_t count) {
  const size_t blocks = (count + kThreads - 1) / kThreads;
  const size_t cap = 65535u * 8u;
  return static_cast<unsigned int>(blocks == 0 ? 1 : (blocks < cap ? blocks : cap));
}

#define REPRO_GRID_STRIDE(i, count)                                                        \
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < (count); \
       i += static_cast<size_t>(gridDim.x) * blockDim.x)

__global__ void bias_act_kernel(float* y, const float* b, size_t count, int channels, int inner,
                                bool relu) {
  REPRO_GRID_STRIDE(i, count) {
    float v = y[i];
    if (b != nullptr) v = v + b[(i / inner) % channels];
    if (relu) v = v > 0.0f ? v : 0.0f;
    y[i] = v;
  }
}

__global__ void relu_backward_kernel(float* dy, const float* y, size_t count) {
  REPRO_GRID_STRIDE(i, count) {
    if (!(y[i] > 0.0f)) dy[i] = 0.0f;
  }
}

// One block per channel; thread t sums elements t, t + kThreads, ... in double, then a fixed
// binary tree over the block. The order depends only on the geometry.
__global__ void bias_backward_kernel(const float* dy, float* db, int outer, int channels,
                                     int inner) {
  __shared__ double partial[kThreads];
  const int c = blockIdx.x;
  const size_t per_channel = static_cast<size_t>(outer) * inner;
  double sum = 0.0;
  for (size_t j = threadIdx.x; j < per_channel; j += kThreads) {
    const size_t n = j / inner, p = j % inner;
    sum += dy[(n * channels + c) * inner + p];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[c] = static_cast<float>(partial[0]);
}

__global__ void max_pool_forward_kernel(const float* x, float* y, int32_t* argmax, PoolShape p) {
  const size_t count = static_cast<size_t>(p.planes) * p.oh * p.ow;
  REPRO_GRID_STRIDE(i, count) {
    const int ox = static_cast<int>(i % p.ow);
    const int oy = static_cast<int>((i / p.ow) % p.oh);
    const size_t plane = i / (static_cast<size_t>(p.ow) * p.oh);
    const float* xp = x + plane * p.h * p.w;  // (H, W)
    float best = -INFINITY;  // stays so only when the window holds nothing but padding
    int32_t best_at = -1;
    for (int dr = 0; dr < p.r; ++dr) {
      const int ih = oy * p.stride_h - p.pad_top + dr;
      if (ih < 0 || ih >= p.h) continue;
      for (int ds = 0; ds < p.s; ++ds) {
        const int iw = ox * p.stride_w - p.pad_left + ds;
        if (iw < 0 || iw >= p.w) continue;
        const float v = xp[ih * p.w + iw];
        if (best_at < 0 || v > best) {  // strict: ties keep the first in row-major order
          best = v;
          best_at = ih * p.w + iw;
        }
      }
    }
    y[i] = best;
    argmax[i] = best_at;
  }
}

// Gather form of the scatter dx[argmax[o]] += dy[o]: each input element visits the outputs
// whose window covers it, in increasing output order, so sums match the reference's order.
__global__ void max_pool_backward_kernel(const float* dy, const int32_t* argmax, float* dx,
                                         PoolShape p) {
  const size_t count = static_cast<size_t>(p.planes) * p.h * p.w;
  REPRO_GRID_STRIDE(i, count) {
    const int iw = static_cast<int>(i % p.w);
    const int ih = static_cast<int>((i / p.w) % p.h);
    const size_t plane = i / (static_cast<size_t>(p.w) * p.h);
    const int here = ih * p.w + iw;
    // Output row oy covers ih when oy * stride - pad <= ih <= oy * stride - pad + r - 1.
    const int top = ih + p.pad_top - p.r + 1, left = iw + p.pad_left - p.s + 1;
    const int oy_lo = top <= 0 ? 0 : (top + p.stride_h - 1) / p.stride_h;
    const int ox_lo = left <= 0 ? 0 : (left + p.stride_w - 1) / p.stride_w;
    const int oy_hi = min(p.oh - 1, (ih + p.pad_top) / p.stride_h);
    const int ox_hi = min(p.ow - 1, (iw + p.pad_left) / p.stride_w);
    const size_t out_plane = plane * p.oh * p.ow;
    float sum = 0.0f;
    for (int oy = oy_lo; oy <= oy_hi; ++oy) {
      for (int ox = ox_lo; ox <= ox_hi; ++ox) {
        const size_t o = out_plane + static_cast<size_t>(oy) * p.ow + ox;
        if (argmax[o] == here) sum = sum + dy[o];
      }
    }
    dx[i] = sum;
  }
}

__global__ void pad_planes_kernel(const float* x, float* xp, int planes, int h, int w, int hp,
                                  int wp, int top, int left) {
  const size_t count = static_cast<size_t>(planes) * hp * wp;
  REPRO_GRID_STRIDE(i, count) {
    const int col = static_cast<int>(i % wp) - left;
    const int row = static_cast<int>((i / wp) % hp) - top;
    const size_t plane = i / (static_cast<size_t>(wp) * hp);
    const bool inside = row >= 0 && row < h && col >= 0 && col < w;
    xp[i] = inside ? x[(plane * h + row) * w + col] : 0.0f;
  }
}

__global__ void crop_planes_kernel(const float* xp, float* x, int planes, int h, int w, int hp,
                                   int wp, int top, int left) {
  const size_t count = static_cast<size_t>(planes) * h * w;
  REPRO_GRID_STRIDE(i, count) {
    const size_t col = i % w + left;
    const size_t row = (i / w) % h + top;
    const size_t plane = i / (static_cast<size_t>(w) * h);
    x[i] = xp[(plane * hp + row) * wp + col];
  }
}

__global__ void dropout_kernel(const float* x, float* y, size_t count, StreamKey key, float rate,
                               float scale) {
  REPRO_GRID_STRIDE(i, count) { y[i] = dropout_keep(key, i, rate) ? x[i] * scale : 0.0f; }
}

// One thread per sample, in double like the reference: max, sum of exp in class order,
// loss = max + log(sum) - logit[label]. The block then sums its kLossBlock losses and hits in a
// fixed binary tree.
__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, int n,
                                             int k, float* dlogits, float grad_scale,
                                             double* sums) {
  __shared__ double loss_part[kLossBlock];
  __shared__ int32_t correct_part[kLossBlock];
  const int i = blockIdx.x * kLossBlock + threadIdx.x;
  double loss = 0.0;
  int32_t correct = 0;
  if (i < n) {
    const float* row = logits + static_cast<size_t>(i) * k;  // (K)
    const int label = labels[i];
    float top = row[0];
    int top_at = 0;
    for (int j = 1; j < k; ++j) {
      if (row[j] > top) {  // strict: ties go to the first class, like argmax
        top = row[j];
        top_at = j;
      }
    }
    const double max = top;
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum = sum + exp(static_cast<double>(row[j]) - max);
    loss = max + log(sum) - static_cast<double>(row[label]);
    correct = top_at == label ? 1 : 0;
    if (dlogits != nullptr) {
      float* drow = dlogits + static_cast<size_t>(i) * k;  // (K)
      for (int j = 0; j < k; ++j) {
        const double p = exp(static_cast<double>(row[j]) - max) / sum;
        drow[j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) * grad_scale);
      }
    }
  }
  loss_part[threadIdx.x] = loss;
  correct_part[threadIdx.x] = correct;
  __syncthreads();
  for (int half = kLossBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      loss_part[threadIdx.x] += loss_part[threadIdx.x + half];
      correct_part[threadIdx.x] += correct_part[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    sums[blockIdx.x] = loss_part[0];
    sums[gridDim.x + blockIdx.x] = correct_part[0];
  }
}

__global__ void global_avg_pool_forward_kernel(const float* x, float* y, size_t rows, int hw) {
  REPRO_GRID_STRIDE(i, rows) {
    const float* xr = x + i * hw;  // (HW)
    double sum = 0.0;
    for (int p = 0; p < hw; ++p) sum = sum + xr[p];
    y[i] = static_cast<float>(sum / hw);
  }
}

__global__ void global_avg_pool_backward_kernel(const float* dy, float* dx, size_t count, int hw) {
  REPRO_GRID_STRIDE(i, count) { dx[i] = dy[i / hw] / static_cast<float>(hw); }
}

__global__ void nchw_to_nhwc_kernel(const float* x, float* y, size_t count, int c, int hw) {
  REPRO_GRID_STRIDE(i, count) {  // i indexes y (N, HW, C)
    const size_t ci = i % c, p = (i / c) % hw, n = i / (static_cast<size_t>(c) * hw);
    y[i] = x[(n * c + ci) * hw + p];
  }
}

__global__ void nhwc_to_nchw_kernel(const float* x, float* y, size_t count, int c, int hw) {
  REPRO_GRID_STRIDE(i, count) {  // i indexes y (N, C, HW)
    const size_t p = i % hw, ci = (i / hw) % c, n = i / (static_cast<size_t>(c) * hw);
    y[i] = x[(n * hw + p) * c + ci];
  }
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, size_t n, float alpha,
                            float one_minus_b1, float one_minus_b2, float epsilon) {
  REPRO_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] - (mi * alpha) / (sqrtf(vi) + epsilon);
  }
}

__global__ void sgd_kernel(float* w, const float* g, float* velocity, size_t n, float lr,
                           float momentum, bool nesterov) {
  REPRO_GRID_STRIDE(i, n) {
    if (momentum == 0.0f) {
      w[i] = w[i] - g[i] * lr;
      continue;
    }
    const float vi = velocity[i] * momentum - g[i] * lr;
    velocity[i] = vi;
    w[i] = nesterov ? w[i] + (vi * momentum - g[i] * lr) : w[i] + vi;
  }
}

#undef REPRO_GRID_STRIDE

}  // namespace

void bias_act_forward(float* y, const float* b, int outer, int channels, int inner, bool relu) {
  const size_t count = static_cast<size_t>(outer) * channels * inner;
  if (count == 0 || (b == nullptr && !relu)) return;
  bias_act_kernel<<<blocks_for(count), kThreads>>>(y, b, count, channels, inner, relu);
  REPRO_CUDA_LAUNCHED();
}

void relu_backward(float* dy, const float* y, size_t count) {
  if (count == 0) return;
  relu_backward_kernel<<<blocks_for(count), kThreads>>>(dy, y, count);
  REPRO_CUDA_LAUNCHED();
}

void bias_backward(const float* dy, float* db, int outer, int channels, int inner) {
  if (channels == 0) return;
  bias_backward_kernel<<<channels, kThreads>>>(dy, db, outer, channels, inner);
  REPRO_CUDA_LAUNCHED();
}

void max_pool_forward(const float* x, float* y, int32_t* argmax, const PoolShape& p) {
  const size_t count = static_cast<size_t>(p.planes) * p.oh * p.ow;
  if (count == 0) return;
  max_pool_forward_kernel<<<blocks_for(count), kThreads>>>(x, y, argmax, p);
  REPRO_CUDA_LAUNCHED();
}

void max_pool_backward(const float* dy, const int32_t* argmax, float* dx, const PoolShape& p) {
  const size_t count = static_cast<size_t>(p.planes) * p.h * p.w;
  if (count == 0) return;
  max_pool_backward_kernel<<<blocks_for(count), kThreads>>>(dy, argmax, dx, p);
  REPRO_CUDA_LAUNCHED();
}

void pad_planes(const float* x, float* xp, int planes, int h, int w, int hp, int wp, int top,
                int left) {
  const size_t count = static_cast<size_t>(planes) * hp * wp;
  if (count == 0) return;
  pad_planes_kernel<<<blocks_for(count), kThreads>>>(x, xp, planes, h, w, hp, wp, top, left);
  REPRO_CUDA_LAUNCHED();
}

void crop_planes(const float* xp, float* x, int planes, int h, int w, int hp, int wp, int top,
                 int left) {
  const size_t count = static_cast<size_t>(planes) * h * w;
  if (count == 0) return;
  crop_planes_kernel<<<blocks_for(count), kThreads>>>(xp, x, planes, h, w, hp, wp, top, left);
  REPRO_CUDA_LAUNCHED();
}

void dropout_apply(const float* x, float* y, size_t count, StreamKey key, float rate, float scale) {
  if (count == 0) return;
  dropout_kernel<<<blocks_for(count), kThreads>>>(x, y, count, key, rate, scale);
  REPRO_CUDA_LAUNCHED();
}

void softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k, float* dlogits,
                           float grad_scale, double* sums) {
  if (n == 0) return;
  const int blocks = (n + kLossBlock - 1) / kLossBlock;
  softmax_cross_entropy_kernel<<<blocks, kLossBlock>>>(logits, labels, n, k, dlogits, grad_scale,
                                                       sums);
  REPRO_CUDA_LAUNCHED();
}

void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) {
  const size_t rows = static_cast<size_t>(n) * c;
  if (rows == 0) return;
  global_avg_pool_forward_kernel<<<blocks_for(rows), kThreads>>>(x, y, rows, hw);
  REPRO_CUDA_LAUNCHED();
}

void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) {
  const size_t count = static_cast<size_t>(n) * c * hw;
  if (count == 0) return;
  global_avg_pool_backward_kernel<<<blocks_for(count), kThreads>>>(dy, dx, count, hw);
  REPRO_CUDA_LAUNCHED();
}

void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) {
  const size_t count = static_cast<size_t>(n) * c * hw;
  if (count == 0) return;
  nchw_to_nhwc_kernel<<<blocks_for(count), kThreads>>>(x, y, count, c, hw);
  REPRO_CUDA_LAUNCHED();
}

void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) {
  const size_t count = static_cast<size_t>(n) * c * hw;
  if (count == 0) return;
  nhwc_to_nchw_kernel<<<blocks_for(count), kThreads>>>(x, y, count, c, hw);
  REPRO_CUDA_LAUNCHED();
}

void adam_update(float* w, const float* g, float* m, float* v, size_t n, float alpha,
                 float one_minus_b1, float one_minus_b2, float epsilon) {
  if (n == 0) return;
  adam_kernel<<<blocks_for(n), kThreads>>>(w, g, m, v, n, alpha, one_minus_b1, one_minus_b2,
                                           epsilon);
  REPRO_CUDA_LAUNCHED();
}

void sgd_update(float* w, const float* g, float* velocity, size_t n, float learning_rate,
                float momentum, bool nesterov) {
  if (n == 0) return;
  sgd_kernel<<<blocks_for(n), kThreads>>>(w, g, velocity, n, learning_rate, momentum, nesterov);
  REPRO_CUDA_LAUNCHED();
}

}  // namespace repro::cuda
