// The GPU kernels of determinism: portable: one thread per output element (or per chunk and
// output for batch sums), each running exactly the operation order of docs/design/portable.md, so
// the GPU gives the CPU portable backend's bits. Built with -fmad=false; exp and log are the CPU's
// own functions (backend/portable/portable_math.h). Slow on purpose: correctness first.
// Pointers are device memory; launches go to the default stream.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.h"

namespace repro::cuda::portable {

// y (N, K, OH, OW) = conv(x, w) + b, relu; b may be null.
void conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y);
// dx (N, C, H, W) from the masked gradient g (N, K, OH, OW).
void conv_backward_data(const ConvGeometry& g, const float* grad, const float* w, float* dx);
// dw_parts (CHUNKS, K, C, R, S) and db_parts (CHUNKS, K) (db_parts may be null) per chunk.
void conv_weight_grad_parts(const ConvGeometry& g, const float* x, const float* grad,
                            float* dw_parts, float* db_parts);
// y (N, OUT) = x w^T + b, relu; b may be null.
void dense_forward(const DenseGeometry& g, const float* x, const float* w, const float* b,
                   float* y);
// dx (N, IN) from the masked gradient (N, OUT).
void dense_backward_data(const DenseGeometry& g, const float* grad, const float* w, float* dx);
// dw_parts (CHUNKS, OUT, IN) and db_parts (CHUNKS, OUT) per chunk.
void dense_weight_grad_parts(const DenseGeometry& g, const float* x, const float* grad,
                             float* dw_parts, float* db_parts);
// out (SIZE) = parts[0] + parts[1] + ... + parts[CHUNKS-1], folded in chunk order.
void fold_chunks(const float* parts, float* out, int chunks, size_t size);
// y (N, C) = (sum from +0 over HW in order) / HW.
void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw);
// Per sample: losses (N) and hits (N, 1 when the first maximum is the label), dlogits unless
// null; the order of docs/design/portable.md.
void softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k, float* dlogits,
                           float grad_scale, float* losses, int32_t* hits);

}  // namespace repro::cuda::portable
