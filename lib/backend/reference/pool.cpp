// Reference max pooling (with argmax kept for backward), average pooling and global average
// pooling. Plain loops in output order; no padded cell is ever a candidate for the max or
// counted in an average.
#include <algorithm>
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

void max_pool2d_backward(const PoolGeometry& g, const float* dy, const int32_t* argmax, float* dx) {
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

namespace {

// The cells of window (oh, ow) inside the image: rows [h0, h1), columns [w0, w1).
struct Window {
  int h0, h1, w0, w1;
  int count() const { return (h1 - h0) * (w1 - w0); }
};

Window window_at(const PoolGeometry& g, int oh, int ow) {
  Window win;
  win.h0 = std::max(oh * g.stride_h - g.pad_top, 0);
  win.h1 = std::min(oh * g.stride_h - g.pad_top + g.r, g.h);
  win.w0 = std::max(ow * g.stride_w - g.pad_left, 0);
  win.w1 = std::min(ow * g.stride_w - g.pad_left + g.s, g.w);
  return win;
}

}  // namespace

void avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
  for (size_t p = 0; p < size_t(g.n) * g.c; p++) {
    const float* plane = x + p * g.h * g.w;  // (H, W)
    for (int oh = 0; oh < g.oh; oh++) {
      for (int ow = 0; ow < g.ow; ow++) {
        const Window win = window_at(g, oh, ow);
        double acc = 0;
        for (int ih = win.h0; ih < win.h1; ih++)
          for (int iw = win.w0; iw < win.w1; iw++) acc += plane[ih * g.w + iw];
        y[(p * g.oh + oh) * g.ow + ow] = win.count() > 0 ? float(acc / win.count()) : 0.0f;
      }
    }
  }
}

void avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) {
  for (size_t i = 0; i < size_t(g.n) * g.c * g.h * g.w; i++) dx[i] = 0.0f;
  for (size_t p = 0; p < size_t(g.n) * g.c; p++) {
    float* plane = dx + p * g.h * g.w;  // (H, W)
    for (int oh = 0; oh < g.oh; oh++) {
      for (int ow = 0; ow < g.ow; ow++) {
        const Window win = window_at(g, oh, ow);
        if (win.count() == 0) continue;
        const float share = dy[(p * g.oh + oh) * g.ow + ow] / float(win.count());
        for (int ih = win.h0; ih < win.h1; ih++)
          for (int iw = win.w0; iw < win.w1; iw++) plane[ih * g.w + iw] += share;
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
