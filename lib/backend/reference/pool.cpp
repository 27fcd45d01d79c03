// Reference max pooling (with argmax kept for backward) and global average pooling.
// Plain loops in output order; no padding value is ever a candidate for the max.
#include <limits>

#include "backend/reference/reference_ops.h"

namespace repro::reference {

void max_pool2d_forward(const PoolGeometry& g, const float* x, float* y, int32_t* argmax) {
  for (int n = 0; n < g.n; n++) {
    for (int c = 0; c < g.c; c++) {
      const float* plane = x + (size_t(n) * g.c + c) * g.h * g.w;  // (H, W)
      for (int oh = 0; oh < g.oh; oh++) {
        for (int ow = 0; ow < g.ow; ow++) {
          float best = -std::numeric_limits<float>::infinity();
          int32_t best_index = -1;
          for (int r = 0; r < g.r; r++) {
            int ih = oh * g.stride_h - g.pad_top + r;
            if (ih < 0 || ih >= g.h) continue;
            for (int s = 0; s < g.s; s++) {
              int iw = ow * g.stride_w - g.pad_left + s;
              if (iw < 0 || iw >= g.w) continue;
              float v = plane[ih * g.w + iw];
              // Strictly greater: the first element in row-major order wins ties.
              if (best_index < 0 || v > best) {
                best = v;
                best_index = ih * g.w + iw;
              }
            }
          }
          size_t o = ((size_t(n) * g.c + c) * g.oh + oh) * g.ow + ow;
          y[o] = best;
          argmax[o] = best_index;
        }
      }
    }
  }
}

void max_pool2d_backward(const PoolGeometry& g, const float* dy, const int32_t* argmax,
                         float* dx) {
  for (size_t i = 0; i < size_t(g.n) * g.c * g.h * g.w; i++) dx[i] = 0.0f;
  for (int n = 0; n < g.n; n++) {
    for (int c = 0; c < g.c; c++) {
      float* plane = dx + (size_t(n) * g.c + c) * g.h * g.w;  // (H, W)
      for (int o = 0; o < g.oh * g.ow; o++) {
        size_t i = (size_t(n) * g.c + c) * g.oh * g.ow + o;
        if (argmax[i] >= 0) plane[argmax[i]] += dy[i];
      }
    }
  }
}

void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) {
  for (size_t p = 0; p < size_t(n) * c; p++) {
    double acc = 0;
    for (int i = 0; i < hw; i++) acc += x[p * hw + i];
    y[p] = float(acc / hw);
  }
}

void global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) {
  for (size_t p = 0; p < size_t(n) * c; p++) {
    float share = dy[p] / float(hw);
    for (int i = 0; i < hw; i++) dx[p * hw + i] = share;
  }
}

}  // namespace repro::reference
