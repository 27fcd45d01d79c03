// Reference element-wise kernels: layout transposes for Keras's (H, W, C) flatten order and
// inverted dropout. Each output element depends on its own index only, so any split of the
// range over threads gives the same bits.
#include "backend/reference/reference_ops.h"

namespace repro::reference {

void nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) {
  for (int b = 0; b < n; b++)
    for (int p = 0; p < hw; p++)
      for (int ch = 0; ch < c; ch++)
        y[(size_t(b) * hw + p) * c + ch] = x[(size_t(b) * c + ch) * hw + p];
}

void nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) {
  for (int b = 0; b < n; b++)
    for (int ch = 0; ch < c; ch++)
      for (int p = 0; p < hw; p++)
        y[(size_t(b) * c + ch) * hw + p] = x[(size_t(b) * hw + p) * c + ch];
}

void dropout_forward(const float* x, float* y, size_t begin, size_t end, StreamKey key,
                     float rate) {
  float scale = 1.0f / (1.0f - rate);
  for (size_t i = begin; i < end; i++) y[i] = dropout_keep(key, i, rate) ? x[i] * scale : 0.0f;
}

void dropout_backward(const float* dy, float* dx, size_t begin, size_t end, StreamKey key,
                      float rate) {
  float scale = 1.0f / (1.0f - rate);
  for (size_t i = begin; i < end; i++) dx[i] = dropout_keep(key, i, rate) ? dy[i] * scale : 0.0f;
}

}  // namespace repro::reference
