// HostBackend's loops rearranged for speed with the reference's bits (tuned_host_backend.h).
#include "backend/reference/tuned_host_backend.h"

#include <algorithm>
#include <cmath>

#include "backend/reference/reference_ops.h"
#include "core/chunk.h"

namespace repro {

namespace {

constexpr int kSideBySide = 8;  // chunk sums run together (one batch of 64 images)

// out[k * stride] = chunk k's sum of term(i) over the values i of channel ch's values, images then
// positions in order from 0 (reference batch_norm.cpp's chunk_sum), for every chunk; up to
// kSideBySide whole chunks at a time, their adds interleaved.
template <class F>
void channel_chunk_sums(const BatchNormGeometry& g, int ch, F term, double* out, size_t stride) {
  const size_t image = size_t(g.c) * g.hw, plane = size_t(ch) * g.hw;
  const int chunks = chunk_count(g.n), whole = g.n / kChunk;
  for (int k0 = 0; k0 < chunks; k0 += kSideBySide) {
    const int kn = std::min(kSideBySide, chunks - k0);
    if (k0 + kn > whole) {  // the short last chunk among them: one chunk at a time
      for (int k = k0; k < chunks; k++) {
        double sum = 0;
        for (int b = k * kChunk; b < std::min((k + 1) * kChunk, g.n); b++)
          for (int p = 0; p < g.hw; p++) sum += term(b * image + plane + p);
        out[size_t(k) * stride] = sum;
      }
      break;
    }
    double acc[kSideBySide] = {};
    for (int bo = 0; bo < kChunk; bo++) {
      const size_t first = size_t(k0 * kChunk + bo) * image + plane;
      for (int p = 0; p < g.hw; p++)
        for (int j = 0; j < kn; j++) acc[j] += term(first + size_t(j) * kChunk * image + p);
    }
    for (int j = 0; j < kn; j++) out[size_t(k0 + j) * stride] = acc[j];
  }
}

void tuned_chunk_sums(const BatchNormGeometry& g, const float* x, const float* mean, double* sums,
                      int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    double* out = sums + ch;
    if (!mean) {
      channel_chunk_sums(
          g, ch, [x](size_t i) { return double(x[i]); }, out, size_t(g.c));
    } else {
      const double m = mean[ch];
      channel_chunk_sums(
          g, ch, [x, m](size_t i) { return (double(x[i]) - m) * (double(x[i]) - m); }, out,
          size_t(g.c));
    }
  }
}

void tuned_grad_sums(const BatchNormGeometry& g, const float* x, const float* saved_mean,
                     const float* saved_inv_std, const float* dy, double* sums, int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    const double mean = saved_mean[ch], inv_std = saved_inv_std[ch];
    double* out = sums + size_t(ch) * 2;
    const size_t stride = size_t(g.c) * 2;
    channel_chunk_sums(
        g, ch, [dy](size_t i) { return double(dy[i]); }, out, stride);
    channel_chunk_sums(
        g, ch, [&](size_t i) { return double(dy[i]) * (double(x[i]) - mean) * inv_std; }, out + 1,
        stride);
  }
}

// Windows that tile the input: stride = window, no padding (cells past the last window get none).
bool tiling_windows(const PoolGeometry& g) {
  return g.stride_h == g.r && g.stride_w == g.s && g.pad_top == 0 && g.pad_left == 0 &&
         g.pad_bottom == 0 && g.pad_right == 0 && g.oh * g.r <= g.h && g.ow * g.s <= g.w;
}

}  // namespace

void TunedHostBackend::batch_norm_sums(const BatchNormGeometry& g, const float* x,
                                       const float* mean, double* sums, int c0, int c1) {
  tuned_chunk_sums(g, x, mean, sums, c0, c1);
}

void TunedHostBackend::batch_norm_grad_sums(const BatchNormGeometry& g, const float* x,
                                            const float* saved_mean, const float* saved_inv_std,
                                            const float* dy, double* sums, int c0, int c1) {
  tuned_grad_sums(g, x, saved_mean, saved_inv_std, dy, sums, c0, c1);
}

// The reference's window sums in double, rows then columns, divided by the count.
void TunedHostBackend::avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
  if (!tiling_windows(g)) return HostBackend::avg_pool2d_forward(g, x, y);
  const int count = g.r * g.s;
  parallel_for(threads_, g.n * g.c, [&](int p) {
    const float* plane = x + size_t(p) * g.h * g.w;
    float* out = y + size_t(p) * g.oh * g.ow;
    for (int oh = 0; oh < g.oh; oh++)
      for (int ow = 0; ow < g.ow; ow++) {
        double acc = 0;
        for (int r = 0; r < g.r; r++)
          for (int s = 0; s < g.s; s++) acc += plane[(oh * g.r + r) * g.w + ow * g.s + s];
        out[oh * g.ow + ow] = float(acc / count);
      }
  });
}

// Each covered cell gets 0 + its window's share (the reference's zeroed plane plus one share:
// +0 for a share of -0), every other cell 0.
void TunedHostBackend::avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) {
  if (!tiling_windows(g)) return HostBackend::avg_pool2d_backward(g, dy, dx);
  const float count = float(g.r * g.s);
  parallel_for(threads_, g.n * g.c, [&](int p) {
    const float* in = dy + size_t(p) * g.oh * g.ow;
    float* plane = dx + size_t(p) * g.h * g.w;
    for (int ih = 0; ih < g.h; ih++) {
      float* row = plane + size_t(ih) * g.w;
      if (ih >= g.oh * g.r) {
        std::fill(row, row + g.w, 0.0f);
        continue;
      }
      const float* shares = in + size_t(ih / g.r) * g.ow;
      for (int ow = 0; ow < g.ow; ow++) {
        const float share = 0.0f + shares[ow] / count;
        for (int s = 0; s < g.s; s++) row[ow * g.s + s] = share;
      }
      std::fill(row + g.ow * g.s, row + g.w, 0.0f);
    }
  });
}

void TunedHostBackend::activation_backward(ActivationFn f, const float* x, const float* y,
                                           const float* dy, float* dx, size_t count) {
  const auto each = [&](auto grad) {
    in_ranges(count, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; i++) dx[i] = grad(y[i], dy[i]);
    });
  };
  switch (f) {
    case ActivationFn::relu: return each([](float v, float d) { return v > 0.0f ? d : 0.0f; });
    case ActivationFn::elu:
      return each([](float v, float d) {
        const float neg = d * (v + 1.0f);
        return v > 0.0f ? d : neg;
      });
    case ActivationFn::leaky_relu:
      return each([](float v, float d) {
        const float neg = d * kLeakyReluSlope;
        return v >= 0.0f ? d : neg;
      });
    case ActivationFn::hard_sigmoid:
      return each([](float v, float d) {
        const float inside = d / 6.0f;
        return v > 0.0f && v < 1.0f ? inside : 0.0f;
      });
    default: return HostBackend::activation_backward(f, x, y, dy, dx, count);
  }
}

// reference::affine_pixel's operations: the source point, its floor (nearest: its rounding), the
// weights, then the weighted sum from 0 over the corners in row-major order (nearest: 0 + 1 x
// the cell); a point whose cells are not all inside the image takes the reference.
void TunedHostBackend::affine_forward(const AffineGeometry& g, const float* transforms,
                                      const float* x, float* y) {
  const size_t plane = size_t(g.h) * g.w;
  const bool nearest = g.interpolation == Interpolation::nearest;
  parallel_for(threads_, g.n, [&](int b) {
    const float* t = transforms + size_t(b) * 6;
    for (int oy = 0; oy < g.h; oy++) {
      for (int ox = 0; ox < g.w; ox++) {
        const float src_x = t[0] * float(ox) + t[1] * float(oy) + t[2];
        const float src_y = t[3] * float(ox) + t[4] * float(oy) + t[5];
        const size_t at = size_t(oy) * g.w + ox;
        // The cells read: the nearest one, or the bilinear corners from (y0, x0) to (y0+1, x0+1).
        const float y0 = nearest ? std::nearbyint(src_y) : std::floor(src_y);
        const float x0 = nearest ? std::nearbyint(src_x) : std::floor(src_x);
        const float reach = nearest ? 0.0f : 1.0f;
        if (!(y0 >= 0.0f && y0 + reach < float(g.h) && x0 >= 0.0f && x0 + reach < float(g.w))) {
          for (int c = 0; c < g.c; c++) {
            const size_t offset = (size_t(b) * g.c + c) * plane;
            y[offset + at] = reference::affine_pixel(g, t, x + offset, oy, ox);
          }
          continue;
        }
        if (nearest) {
          const size_t cell = size_t(y0) * g.w + size_t(x0);
          for (int c = 0; c < g.c; c++) {
            const size_t offset = (size_t(b) * g.c + c) * plane;
            y[offset + at] = 0.0f + 1.0f * x[offset + cell];
          }
          continue;
        }
        const float fy = src_y - y0, fx = src_x - x0;
        const float w00 = (1.0f - fy) * (1.0f - fx), w01 = (1.0f - fy) * fx;
        const float w10 = fy * (1.0f - fx), w11 = fy * fx;
        const size_t corner = size_t(y0) * g.w + size_t(x0);
        for (int c = 0; c < g.c; c++) {
          const float* in = x + (size_t(b) * g.c + c) * plane + corner;
          float acc = 0.0f;
          acc += w00 * in[0];
          acc += w01 * in[1];
          acc += w10 * in[g.w];
          acc += w11 * in[g.w + 1];
          y[(size_t(b) * g.c + c) * plane + at] = acc;
        }
      }
    }
  });
}

}  // namespace repro
