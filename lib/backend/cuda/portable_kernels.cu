// The GPU kernels of determinism: portable (see portable_kernels.h): each thread computes one
// output with the CPU's loop nest, so every sum runs in the specified order. No shared-memory
// reductions, no atomics, no library math.
#include "backend/cuda/portable_kernels.h"

#include "backend/cuda/cuda_check.h"
#include "backend/portable/portable_math.h"

namespace repro::cuda::portable {

namespace {

constexpr int kThreads = 256;

unsigned blocks_for(size_t count) {
  size_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks == 0 ? 1 : blocks) : 65535);
}

#define REPRO_PORTABLE_GRID(i, count)                                                      \
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < (count); \
       i += static_cast<size_t>(gridDim.x) * blockDim.x)

__device__ float input_at(const ConvGeometry& g, const float* x, int n, int c, int ih, int iw) {
  if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return 0.0f;
  return x[((static_cast<size_t>(n) * g.c + c) * g.h + ih) * g.w + iw];
}

__device__ float finish(float acc, const float* b, int k, bool relu) {
  float v = b ? acc + b[k] : acc;
  return (relu && !(v > 0.0f)) ? 0.0f : v;
}

__global__ void conv_forward_kernel(ConvGeometry g, const float* x, const float* w, const float* b,
                                    float* y) {
  const size_t count = static_cast<size_t>(g.n) * g.k * g.oh * g.ow;
  REPRO_PORTABLE_GRID(i, count) {
    const int ow = static_cast<int>(i % g.ow), oh = static_cast<int>((i / g.ow) % g.oh);
    const int k = static_cast<int>((i / (static_cast<size_t>(g.ow) * g.oh)) % g.k);
    const int n = static_cast<int>(i / (static_cast<size_t>(g.ow) * g.oh * g.k));
    float acc = 0.0f;
    for (int c = 0; c < g.c; c++)
      for (int r = 0; r < g.r; r++)
        for (int s = 0; s < g.s; s++) {
          float xv = input_at(g, x, n, c, oh * g.stride_h - g.pad_top + r,
                              ow * g.stride_w - g.pad_left + s);
          acc = acc + xv * w[((static_cast<size_t>(k) * g.c + c) * g.r + r) * g.s + s];
        }
    y[i] = finish(acc, g.bias ? b : nullptr, k, g.relu);
  }
}

__global__ void conv_backward_data_kernel(ConvGeometry g, const float* grad, const float* w,
                                          float* dx) {
  const size_t count = static_cast<size_t>(g.n) * g.c * g.h * g.w;
  REPRO_PORTABLE_GRID(i, count) {
    const int iw = static_cast<int>(i % g.w), ih = static_cast<int>((i / g.w) % g.h);
    const int c = static_cast<int>((i / (static_cast<size_t>(g.w) * g.h)) % g.c);
    const int n = static_cast<int>(i / (static_cast<size_t>(g.w) * g.h * g.c));
    float acc = 0.0f;
    for (int k = 0; k < g.k; k++)
      for (int r = 0; r < g.r; r++)
        for (int s = 0; s < g.s; s++) {
          const int th = ih + g.pad_top - r, tw = iw + g.pad_left - s;
          float d = 0.0f;
          if (th >= 0 && tw >= 0 && th % g.stride_h == 0 && tw % g.stride_w == 0 &&
              th / g.stride_h < g.oh && tw / g.stride_w < g.ow)
            d = grad[((static_cast<size_t>(n) * g.k + k) * g.oh + th / g.stride_h) * g.ow +
                     tw / g.stride_w];
          acc = acc + d * w[((static_cast<size_t>(k) * g.c + c) * g.r + r) * g.s + s];
        }
    dx[i] = acc;
  }
}

// One thread per (chunk, k, c, r, s): rows of ow summed first, then the rows in (n, oh) order.
__global__ void conv_weight_grad_kernel(ConvGeometry g, const float* x, const float* grad,
                                        float* dw_parts) {
  const size_t per_chunk = static_cast<size_t>(g.k) * g.c * g.r * g.s;
  const int chunks = chunk_count(g.n);
  REPRO_PORTABLE_GRID(i, per_chunk * chunks) {
    const size_t e = i % per_chunk;
    const int chunk = static_cast<int>(i / per_chunk);
    const int s = static_cast<int>(e % g.s), r = static_cast<int>((e / g.s) % g.r);
    const int c = static_cast<int>((e / (static_cast<size_t>(g.s) * g.r)) % g.c);
    const int k = static_cast<int>(e / (static_cast<size_t>(g.s) * g.r * g.c));
    const int last = min(g.n, (chunk + 1) * kChunk);
    float acc = 0.0f;
    for (int n = chunk * kChunk; n < last; n++)
      for (int oh = 0; oh < g.oh; oh++) {
        float row = 0.0f;
        for (int ow = 0; ow < g.ow; ow++) {
          float xv = input_at(g, x, n, c, oh * g.stride_h - g.pad_top + r,
                              ow * g.stride_w - g.pad_left + s);
          row = row + xv * grad[((static_cast<size_t>(n) * g.k + k) * g.oh + oh) * g.ow + ow];
        }
        acc = acc + row;
      }
    dw_parts[i] = acc;
  }
}

__global__ void conv_bias_grad_kernel(ConvGeometry g, const float* grad, float* db_parts) {
  const int chunks = chunk_count(g.n);
  REPRO_PORTABLE_GRID(i, static_cast<size_t>(chunks) * g.k) {
    const int k = static_cast<int>(i % g.k), chunk = static_cast<int>(i / g.k);
    const int last = min(g.n, (chunk + 1) * kChunk);
    float acc = 0.0f;
    for (int n = chunk * kChunk; n < last; n++)
      for (int oh = 0; oh < g.oh; oh++) {
        float row = 0.0f;
        for (int ow = 0; ow < g.ow; ow++)
          row = row + grad[((static_cast<size_t>(n) * g.k + k) * g.oh + oh) * g.ow + ow];
        acc = acc + row;
      }
    db_parts[i] = acc;
  }
}

__global__ void dense_forward_kernel(DenseGeometry g, const float* x, const float* w,
                                     const float* b, float* y) {
  REPRO_PORTABLE_GRID(i, static_cast<size_t>(g.n) * g.out) {
    const int o = static_cast<int>(i % g.out), n = static_cast<int>(i / g.out);
    float acc = 0.0f;
    for (int j = 0; j < g.in; j++)
      acc = acc + x[static_cast<size_t>(n) * g.in + j] * w[static_cast<size_t>(o) * g.in + j];
    y[i] = finish(acc, g.bias ? b : nullptr, o, g.relu);
  }
}

__global__ void dense_backward_data_kernel(DenseGeometry g, const float* grad, const float* w,
                                           float* dx) {
  REPRO_PORTABLE_GRID(i, static_cast<size_t>(g.n) * g.in) {
    const int j = static_cast<int>(i % g.in), n = static_cast<int>(i / g.in);
    float acc = 0.0f;
    for (int o = 0; o < g.out; o++)
      acc = acc + grad[static_cast<size_t>(n) * g.out + o] * w[static_cast<size_t>(o) * g.in + j];
    dx[i] = acc;
  }
}

__global__ void dense_weight_grad_kernel(DenseGeometry g, const float* x, const float* grad,
                                         float* dw_parts, float* db_parts) {
  const size_t per_chunk = static_cast<size_t>(g.out) * g.in;
  const int chunks = chunk_count(g.n);
  REPRO_PORTABLE_GRID(i, per_chunk * chunks) {
    const size_t e = i % per_chunk;
    const int chunk = static_cast<int>(i / per_chunk);
    const int j = static_cast<int>(e % g.in), o = static_cast<int>(e / g.in);
    const int last = min(g.n, (chunk + 1) * kChunk);
    float acc = 0.0f;
    for (int n = chunk * kChunk; n < last; n++)
      acc = acc + grad[static_cast<size_t>(n) * g.out + o] * x[static_cast<size_t>(n) * g.in + j];
    dw_parts[i] = acc;
    if (j == 0 && db_parts) {
      float sum = 0.0f;
      for (int n = chunk * kChunk; n < last; n++)
        sum = sum + grad[static_cast<size_t>(n) * g.out + o];
      db_parts[static_cast<size_t>(chunk) * g.out + o] = sum;
    }
  }
}

__global__ void fold_kernel(const float* parts, float* out, int chunks, size_t size) {
  REPRO_PORTABLE_GRID(i, size) {
    float total = parts[i];
    for (int c = 1; c < chunks; c++) total = total + parts[static_cast<size_t>(c) * size + i];
    out[i] = total;
  }
}

__global__ void global_avg_pool_kernel(const float* x, float* y, size_t rows, int hw) {
  REPRO_PORTABLE_GRID(i, rows) {
    float acc = 0.0f;
    for (int p = 0; p < hw; p++) acc = acc + x[i * hw + p];
    y[i] = acc / static_cast<float>(hw);
  }
}

__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, int n,
                                             int k, float* dlogits, float grad_scale, float* losses,
                                             int32_t* hits) {
  REPRO_PORTABLE_GRID(i, static_cast<size_t>(n)) {
    const float* z = logits + i * k;  // (K)
    const int t = labels[i];
    int best = 0;
    for (int j = 1; j < k; j++)
      if (z[j] > z[best]) best = j;
    const float m = z[best];
    float s = 0.0f;
    for (int j = 0; j < k; j++) s = s + repro::portable::exp_f32(z[j] - m);
    losses[i] = repro::portable::log_f32(s) - (z[t] - m);
    hits[i] = best == t ? 1 : 0;
    if (dlogits)
      for (int j = 0; j < k; j++)
        dlogits[i * k + j] =
            (repro::portable::exp_f32(z[j] - m) / s - (j == t ? 1.0f : 0.0f)) * grad_scale;
  }
}

}  // namespace

void conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y) {
  conv_forward_kernel<<<blocks_for(size_t(g.n) * g.k * g.oh * g.ow), kThreads>>>(g, x, w, b, y);
  REPRO_CUDA_LAUNCHED();
}

void conv_backward_data(const ConvGeometry& g, const float* grad, const float* w, float* dx) {
  conv_backward_data_kernel<<<blocks_for(size_t(g.n) * g.c * g.h * g.w), kThreads>>>(g, grad, w,
                                                                                     dx);
  REPRO_CUDA_LAUNCHED();
}

void conv_weight_grad_parts(const ConvGeometry& g, const float* x, const float* grad,
                            float* dw_parts, float* db_parts) {
  const size_t chunks = chunk_count(g.n);
  conv_weight_grad_kernel<<<blocks_for(chunks * g.k * g.c * g.r * g.s), kThreads>>>(g, x, grad,
                                                                                    dw_parts);
  REPRO_CUDA_LAUNCHED();
  if (db_parts) {
    conv_bias_grad_kernel<<<blocks_for(chunks * g.k), kThreads>>>(g, grad, db_parts);
    REPRO_CUDA_LAUNCHED();
  }
}

void dense_forward(const DenseGeometry& g, const float* x, const float* w, const float* b,
                   float* y) {
  dense_forward_kernel<<<blocks_for(size_t(g.n) * g.out), kThreads>>>(g, x, w, b, y);
  REPRO_CUDA_LAUNCHED();
}

void dense_backward_data(const DenseGeometry& g, const float* grad, const float* w, float* dx) {
  dense_backward_data_kernel<<<blocks_for(size_t(g.n) * g.in), kThreads>>>(g, grad, w, dx);
  REPRO_CUDA_LAUNCHED();
}

void dense_weight_grad_parts(const DenseGeometry& g, const float* x, const float* grad,
                             float* dw_parts, float* db_parts) {
  const size_t chunks = chunk_count(g.n);
  dense_weight_grad_kernel<<<blocks_for(chunks * g.out * g.in), kThreads>>>(g, x, grad, dw_parts,
                                                                            db_parts);
  REPRO_CUDA_LAUNCHED();
}

void fold_chunks(const float* parts, float* out, int chunks, size_t size) {
  fold_kernel<<<blocks_for(size), kThreads>>>(parts, out, chunks, size);
  REPRO_CUDA_LAUNCHED();
}

void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) {
  global_avg_pool_kernel<<<blocks_for(size_t(n) * c), kThreads>>>(x, y, size_t(n) * c, hw);
  REPRO_CUDA_LAUNCHED();
}

void softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k, float* dlogits,
                           float grad_scale, float* losses, int32_t* hits) {
  softmax_cross_entropy_kernel<<<blocks_for(size_t(n)), kThreads>>>(logits, labels, n, k, dlogits,
                                                                    grad_scale, losses, hits);
  REPRO_CUDA_LAUNCHED();
}

}  // namespace repro::cuda::portable
