// Reference depthwise convolution (Keras's DepthwiseConv2D, cross-correlation): output channel
// k = c * DM + m filters input channel c alone with w[m][c] (w (DM, C, R, S), Keras's
// (R, S, C, DM) kernel in the conv layout). Double accumulators in one fixed order; the forward
// and dx work image by image, dw and db per chunk of kChunk images (double), each chunk's sum
// rounded to float and the chunks folded in chunk order in float, the rule a split over threads
// or ranks reproduces. Every CPU backend runs these loops, so all give the same bits.
#include "backend/reference/reference_ops.h"
#include "core/chunk.h"

namespace repro::reference {

namespace {

size_t x_at(const ConvGeometry& g, int b, int c, int h, int w) {
  return ((size_t(b) * g.c + c) * g.h + h) * g.w + w;
}
size_t y_at(const ConvGeometry& g, int b, int k, int oh, int ow) {
  return ((size_t(b) * g.k + k) * g.oh + oh) * g.ow + ow;
}
size_t w_at(const ConvGeometry& g, int k, int r, int s) {
  const int dm = g.depth_multiplier, c = k / dm, m = k % dm;
  return ((size_t(m) * g.c + c) * g.r + r) * g.s + s;
}
// The pre-activation gradient: relu passes dy where the output was positive.
double pre_grad(const ConvGeometry& g, const float* y, const float* dy, size_t i) {
  return g.relu && !(y[i] > 0.0f) ? 0.0 : double(dy[i]);
}

}  // namespace

void depthwise_conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b,
                              float* y, int b0, int b1) {
  for (int n = b0; n < b1; n++)
    for (int k = 0; k < g.k; k++) {
      const int c = k / g.depth_multiplier;
      for (int oh = 0; oh < g.oh; oh++)
        for (int ow = 0; ow < g.ow; ow++) {
          double acc = 0;
          for (int r = 0; r < g.r; r++) {
            const int ih = oh * g.stride_h - g.pad_top + r;
            if (ih < 0 || ih >= g.h) continue;
            for (int s = 0; s < g.s; s++) {
              const int iw = ow * g.stride_w - g.pad_left + s;
              if (iw < 0 || iw >= g.w) continue;
              acc += double(x[x_at(g, n, c, ih, iw)]) * double(w[w_at(g, k, r, s)]);
            }
          }
          if (g.bias && b) acc += b[k];
          float out = float(acc);
          if (g.relu && !(out > 0.0f)) out = 0.0f;
          y[y_at(g, n, k, oh, ow)] = out;
        }
    }
}

void depthwise_conv2d_input_grad(const ConvGeometry& g, const float* w, const float* y,
                                 const float* dy, float* dx, int b0, int b1) {
  for (int n = b0; n < b1; n++)
    for (int c = 0; c < g.c; c++)
      for (int ih = 0; ih < g.h; ih++)
        for (int iw = 0; iw < g.w; iw++) {
          // Every (m, r, s) whose window covers (ih, iw), in that order.
          double acc = 0;
          for (int m = 0; m < g.depth_multiplier; m++) {
            const int k = c * g.depth_multiplier + m;
            for (int r = 0; r < g.r; r++) {
              const int th = ih + g.pad_top - r;  // = oh * stride_h
              if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.oh) continue;
              for (int s = 0; s < g.s; s++) {
                const int tw = iw + g.pad_left - s;
                if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.ow) continue;
                acc += pre_grad(g, y, dy, y_at(g, n, k, th / g.stride_h, tw / g.stride_w)) *
                       double(w[w_at(g, k, r, s)]);
              }
            }
          }
          dx[x_at(g, n, c, ih, iw)] = float(acc);
        }
}

void depthwise_conv2d_param_grads(const ConvGeometry& g, const float* x, const float* y,
                                  const float* dy, float* dw, float* db, int k0, int k1) {
  const int chunks = chunk_count(g.n);
  const size_t w_size = size_t(g.k) * g.r * g.s;
  for (int k = k0; k < k1; k++) {
    const int c = k / g.depth_multiplier;
    for (int r = 0; r < g.r; r++)
      for (int s = 0; s < g.s; s++) {
        float total = 0.0f;
        for (int q = 0; q < chunks; q++) {
          double acc = 0;
          for (int n = q * kChunk; n < (q + 1) * kChunk && n < g.n; n++)
            for (int oh = 0; oh < g.oh; oh++) {
              const int ih = oh * g.stride_h - g.pad_top + r;
              if (ih < 0 || ih >= g.h) continue;
              for (int ow = 0; ow < g.ow; ow++) {
                const int iw = ow * g.stride_w - g.pad_left + s;
                if (iw < 0 || iw >= g.w) continue;
                acc += pre_grad(g, y, dy, y_at(g, n, k, oh, ow)) * double(x[x_at(g, n, c, ih, iw)]);
              }
            }
          const float chunk = float(acc);
          if (g.chunk_grads) dw[q * w_size + w_at(g, k, r, s)] = chunk;
          total = q == 0 ? chunk : total + chunk;
        }
        if (!g.chunk_grads) dw[w_at(g, k, r, s)] = total;
      }
    if (!(g.bias && db)) continue;
    float total = 0.0f;
    for (int q = 0; q < chunks; q++) {
      double acc = 0;
      for (int n = q * kChunk; n < (q + 1) * kChunk && n < g.n; n++)
        for (int oh = 0; oh < g.oh; oh++)
          for (int ow = 0; ow < g.ow; ow++) acc += pre_grad(g, y, dy, y_at(g, n, k, oh, ow));
      const float chunk = float(acc);
      if (g.chunk_grads) db[size_t(q) * g.k + k] = chunk;
      total = q == 0 ? chunk : total + chunk;
    }
    if (!g.chunk_grads) db[k] = total;
  }
}

}  // namespace repro::reference
