// Reference affine resampling of images (the random flip, translation and zoom layers): each
// output pixel reads its source point through the interpolation and the fill mode, as Keras's
// affine_transform (map_coordinates) does. Images are independent; within one image the
// backward adds in output order, so any split of the images over threads gives the same bits.
#include <cmath>

#include "backend/reference/reference_ops.h"

namespace repro::reference {

namespace {

// An input index for `index` along an axis of `size` cells, or -1 for the constant fill.
int fixed_index(int64_t index, int size, FillMode mode) {
  if (index >= 0 && index < size) return int(index);
  switch (mode) {
    case FillMode::constant: return -1;
    case FillMode::nearest: return index < 0 ? 0 : size - 1;
    case FillMode::wrap: {
      int64_t m = index % size;
      return int(m < 0 ? m + size : m);
    }
    case FillMode::reflect: {  // half-sample symmetric, period 2 * size
      const int64_t period = 2 * int64_t(size);
      int64_t m = index % period;
      if (m < 0) m += period;
      return int(m < size ? m : period - 1 - m);
    }
  }
  return -1;
}

// The (up to four) input cells and weights an output pixel reads.
struct Taps {
  int count = 0;
  int index[4];  // h * W + w in the plane, or -1 for the constant fill
  float weight[4];
};

Taps taps_at(const AffineGeometry& g, const float* t, int y, int x) {
  const float src_x = t[0] * float(x) + t[1] * float(y) + t[2];
  const float src_y = t[3] * float(x) + t[4] * float(y) + t[5];
  Taps taps;
  auto add = [&](int64_t row, int64_t col, float weight) {
    const int r = fixed_index(row, g.h, g.fill), c = fixed_index(col, g.w, g.fill);
    taps.index[taps.count] = (r < 0 || c < 0) ? -1 : r * g.w + c;
    taps.weight[taps.count++] = weight;
  };
  if (g.interpolation == Interpolation::nearest) {
    add(int64_t(std::nearbyint(src_y)), int64_t(std::nearbyint(src_x)), 1.0f);
    return taps;
  }
  const float y0 = std::floor(src_y), x0 = std::floor(src_x);
  const float fy = src_y - y0, fx = src_x - x0;
  add(int64_t(y0), int64_t(x0), (1.0f - fy) * (1.0f - fx));
  add(int64_t(y0), int64_t(x0) + 1, (1.0f - fy) * fx);
  add(int64_t(y0) + 1, int64_t(x0), fy * (1.0f - fx));
  add(int64_t(y0) + 1, int64_t(x0) + 1, fy * fx);
  return taps;
}

float sample(const AffineGeometry& g, const Taps& taps, const float* in) {
  float acc = 0.0f;
  for (int k = 0; k < taps.count; k++)
    acc += taps.weight[k] * (taps.index[k] < 0 ? g.fill_value : in[taps.index[k]]);
  return acc;
}

}  // namespace

float affine_pixel(const AffineGeometry& g, const float* t, const float* in, int y, int x) {
  return sample(g, taps_at(g, t, y, x), in);
}

void affine_forward(const AffineGeometry& g, const float* transforms, const float* x, float* y,
                    int b0, int b1) {
  const size_t plane = size_t(g.h) * g.w;
  for (int b = b0; b < b1; b++) {
    const float* t = transforms + size_t(b) * 6;
    for (int oy = 0; oy < g.h; oy++) {
      for (int ox = 0; ox < g.w; ox++) {
        const Taps taps = taps_at(g, t, oy, ox);
        for (int c = 0; c < g.c; c++) {
          const float* in = x + (size_t(b) * g.c + c) * plane;
          y[(size_t(b) * g.c + c) * plane + size_t(oy) * g.w + ox] = sample(g, taps, in);
        }
      }
    }
  }
}

void affine_backward(const AffineGeometry& g, const float* transforms, const float* dy, float* dx,
                     int b0, int b1) {
  const size_t plane = size_t(g.h) * g.w;
  for (size_t i = size_t(b0) * g.c * plane; i < size_t(b1) * g.c * plane; i++) dx[i] = 0.0f;
  for (int b = b0; b < b1; b++) {
    const float* t = transforms + size_t(b) * 6;
    for (int oy = 0; oy < g.h; oy++) {
      for (int ox = 0; ox < g.w; ox++) {
        const Taps taps = taps_at(g, t, oy, ox);
        for (int c = 0; c < g.c; c++) {
          const float d = dy[(size_t(b) * g.c + c) * plane + size_t(oy) * g.w + ox];
          float* out = dx + (size_t(b) * g.c + c) * plane;
          for (int k = 0; k < taps.count; k++)
            if (taps.index[k] >= 0) out[taps.index[k]] += taps.weight[k] * d;
        }
      }
    }
  }
}

}  // namespace repro::reference
