// Reference batch normalization, per channel. Every sum over the batch is taken per chunk of
// kChunk images (double, images then positions in order) and the chunk sums are added in chunk
// order: the project's definition of a batch sum, which a split of the chunks (over ranks) can
// reproduce by adding the same chunk sums in the same order. The op itself sees the whole batch.
// Channels are independent: a caller may hand out channel ranges to threads.
#include <cmath>

#include "backend/reference/reference_ops.h"

namespace repro::reference {

namespace {

// sum over the batch of f(b, p, value) for channel ch, in chunk order.
template <class F>
double chunked_sum(const BatchNormGeometry& g, const float* x, int ch, F f) {
  double total = 0;
  for (int b0 = 0; b0 < g.n; b0 += kChunk) {
    double chunk = 0;
    for (int b = b0; b < b0 + kChunk && b < g.n; b++) {
      const size_t base = (size_t(b) * g.c + ch) * g.hw;
      for (int p = 0; p < g.hw; p++) chunk += f(base + p, x[base + p]);
    }
    total += chunk;
  }
  return total;
}

}  // namespace

void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                        const float* gamma, const float* beta, float* moving_mean,
                        float* moving_variance, float* saved_mean, float* saved_inv_std, float* y,
                        int c0, int c1) {
  const double count = double(g.n) * g.hw;
  for (int ch = c0; ch < c1; ch++) {
    float mean, variance;
    if (training) {
      mean = float(chunked_sum(g, x, ch, [](size_t, float v) { return double(v); }) / count);
      const double m = mean;
      variance =
          float(chunked_sum(g, x, ch,
                            [m](size_t, float v) { return (double(v) - m) * (double(v) - m); }) /
                count);
      moving_mean[ch] = moving_mean[ch] * g.momentum + mean * g.one_minus_momentum;
      moving_variance[ch] = moving_variance[ch] * g.momentum + variance * g.one_minus_momentum;
    } else {
      mean = moving_mean[ch];
      variance = moving_variance[ch];
    }
    const float inv_std = 1.0f / std::sqrt(variance + g.epsilon);
    if (training) {
      saved_mean[ch] = mean;
      saved_inv_std[ch] = inv_std;
    }
    const float inv = gamma ? inv_std * gamma[ch] : inv_std;
    const float shift = beta ? -mean * inv + beta[ch] : -mean * inv;
    for (int b = 0; b < g.n; b++) {
      const size_t base = (size_t(b) * g.c + ch) * g.hw;
      for (int p = 0; p < g.hw; p++) y[base + p] = x[base + p] * inv + shift;
    }
  }
}

void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                         const float* saved_mean, const float* saved_inv_std, const float* dy,
                         float* dx, float* dgamma, float* dbeta, int c0, int c1) {
  const double count = double(g.n) * g.hw;
  for (int ch = c0; ch < c1; ch++) {
    const double mean = saved_mean[ch], inv_std = saved_inv_std[ch];
    // dbeta = sum dy, dgamma = sum dy * xhat, with xhat = (x - mean) * inv_std.
    const double sum_dy = chunked_sum(g, x, ch, [dy](size_t i, float) { return double(dy[i]); });
    const double sum_dy_xhat = chunked_sum(
        g, x, ch, [&](size_t i, float v) { return double(dy[i]) * (double(v) - mean) * inv_std; });
    if (dbeta) dbeta[ch] = float(sum_dy);
    if (dgamma) dgamma[ch] = float(sum_dy_xhat);
    if (!dx) continue;
    // dx = gamma * inv_std / M * (M dy - sum dy - xhat * sum dy xhat).
    const double scale = (gamma ? double(gamma[ch]) : 1.0) * inv_std / count;
    for (int b = 0; b < g.n; b++) {
      const size_t base = (size_t(b) * g.c + ch) * g.hw;
      for (int p = 0; p < g.hw; p++) {
        const double xhat = (double(x[base + p]) - mean) * inv_std;
        dx[base + p] = float(scale * (count * dy[base + p] - sum_dy - xhat * sum_dy_xhat));
      }
    }
  }
}

}  // namespace repro::reference
