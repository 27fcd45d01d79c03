// Reference 2-D convolution (cross-correlation, as Keras): direct loops, double accumulators,
// one fixed summation order. Written to be read and trusted, not to be fast.
#include "backend/reference/reference_ops.h"

namespace repro::reference {

namespace {

// The input row/column that output position o and kernel tap t read, or -1 in the padding.
int input_index(int o, int t, int stride, int pad, int size) {
  int i = o * stride - pad + t;
  return (i >= 0 && i < size) ? i : -1;
}

}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b,
                    float* y) {
  for (int n = 0; n < g.n; n++) {
    for (int k = 0; k < g.k; k++) {
      for (int oh = 0; oh < g.oh; oh++) {
        for (int ow = 0; ow < g.ow; ow++) {
          double acc = 0;
          for (int c = 0; c < g.c; c++) {
            for (int r = 0; r < g.r; r++) {
              int ih = input_index(oh, r, g.stride_h, g.pad_top, g.h);
              if (ih < 0) continue;
              for (int s = 0; s < g.s; s++) {
                int iw = input_index(ow, s, g.stride_w, g.pad_left, g.w);
                if (iw < 0) continue;
                acc += double(x[((size_t(n) * g.c + c) * g.h + ih) * g.w + iw]) *
                       double(w[((size_t(k) * g.c + c) * g.r + r) * g.s + s]);
              }
            }
          }
          if (g.bias && b) acc += b[k];
          float out = float(acc);
          if (g.relu && !(out > 0.0f)) out = 0.0f;
          y[((size_t(n) * g.k + k) * g.oh + oh) * g.ow + ow] = out;
        }
      }
    }
  }
}

void conv2d_backward(const ConvGeometry& g, const float* x, const float* w, const float* y,
                     const float* dy, float* dx, float* dw, float* db) {
  // The gradient at the pre-activation: relu passes dy where the output was positive.
  auto grad = [&](int n, int k, int oh, int ow) -> double {
    size_t i = ((size_t(n) * g.k + k) * g.oh + oh) * g.ow + ow;
    if (g.relu && !(y[i] > 0.0f)) return 0.0;
    return dy[i];
  };

  if (dx) {
    // dx (N,C,H,W): gather every (k, r, s) whose window covers (ih, iw).
    for (int n = 0; n < g.n; n++) {
      for (int c = 0; c < g.c; c++) {
        for (int ih = 0; ih < g.h; ih++) {
          for (int iw = 0; iw < g.w; iw++) {
            double acc = 0;
            for (int k = 0; k < g.k; k++) {
              for (int r = 0; r < g.r; r++) {
                int th = ih + g.pad_top - r;  // = oh * stride_h
                if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.oh) continue;
                for (int s = 0; s < g.s; s++) {
                  int tw = iw + g.pad_left - s;
                  if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.ow) continue;
                  acc += grad(n, k, th / g.stride_h, tw / g.stride_w) *
                         double(w[((size_t(k) * g.c + c) * g.r + r) * g.s + s]);
                }
              }
            }
            dx[((size_t(n) * g.c + c) * g.h + ih) * g.w + iw] = float(acc);
          }
        }
      }
    }
  }

  // dw (K,C,R,S): sum over the batch and every output position, in that order.
  for (int k = 0; k < g.k; k++) {
    for (int c = 0; c < g.c; c++) {
      for (int r = 0; r < g.r; r++) {
        for (int s = 0; s < g.s; s++) {
          double acc = 0;
          for (int n = 0; n < g.n; n++) {
            for (int oh = 0; oh < g.oh; oh++) {
              int ih = input_index(oh, r, g.stride_h, g.pad_top, g.h);
              if (ih < 0) continue;
              for (int ow = 0; ow < g.ow; ow++) {
                int iw = input_index(ow, s, g.stride_w, g.pad_left, g.w);
                if (iw < 0) continue;
                acc +=
                    grad(n, k, oh, ow) * double(x[((size_t(n) * g.c + c) * g.h + ih) * g.w + iw]);
              }
            }
          }
          dw[((size_t(k) * g.c + c) * g.r + r) * g.s + s] = float(acc);
        }
      }
    }
  }

  if (g.bias && db) {
    // db (K): sum of the pre-activation gradient over the batch and positions.
    for (int k = 0; k < g.k; k++) {
      double acc = 0;
      for (int n = 0; n < g.n; n++)
        for (int oh = 0; oh < g.oh; oh++)
          for (int ow = 0; ow < g.ow; ow++) acc += grad(n, k, oh, ow);
      db[k] = float(acc);
    }
  }
}

}  // namespace repro::reference
