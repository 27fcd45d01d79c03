// Reference batch normalization, per channel, in phases that a batch split over ranks can run
// apart: every sum over the batch is taken per chunk of kChunk images (double, images then
// positions in order), and the chunk sums of the whole batch are added in chunk order from 0. A
// process holding some of the chunks computes their sums, gets every chunk's through the
// ChunkSumExchange, and folds exactly what one process folds. Channels are independent: a caller
// may hand out channel ranges to threads.
#include <cmath>

#include "backend/reference/reference_ops.h"
#include "core/chunk.h"
#include "core/wider_isas.h"

namespace repro::reference {

namespace {

// The sum over chunk k's images of f(index, value) for channel ch.
template <class F>
double chunk_sum(const BatchNormGeometry& g, const float* x, int k, int ch, F f) {
  double sum = 0;
  for (int b = k * kChunk; b < (k + 1) * kChunk && b < g.n; b++) {
    const size_t base = (size_t(b) * g.c + ch) * g.hw;
    for (int p = 0; p < g.hw; p++) sum += f(base + p, x[base + p]);
  }
  return sum;
}

// Values in the statistics: every position of every image of the whole batch.
double batch_count(const BatchNormGeometry& g) {
  return double(g.batch > 0 ? g.batch : g.n) * g.hw;
}

}  // namespace

void batch_norm_chunk_sums(const BatchNormGeometry& g, const float* x, const float* mean,
                           double* sums, int c0, int c1) {
  const int chunks = chunk_count(g.n);
  for (int ch = c0; ch < c1; ch++) {
    for (int k = 0; k < chunks; k++) {
      double& out = sums[size_t(k) * g.c + ch];
      if (!mean) {
        out = chunk_sum(g, x, k, ch, [](size_t, float v) { return double(v); });
      } else {
        const double m = mean[ch];
        out = chunk_sum(g, x, k, ch,
                        [m](size_t, float v) { return (double(v) - m) * (double(v) - m); });
      }
    }
  }
}

double fold_chunk_sums(const double* sums, int chunks, size_t width, size_t j) {
  double total = 0;
  for (int k = 0; k < chunks; k++) total += sums[size_t(k) * width + j];
  return total;
}

void batch_norm_mean(const BatchNormGeometry& g, const double* sums, int chunks, float* mean,
                     int c0, int c1) {
  for (int ch = c0; ch < c1; ch++)
    mean[ch] = float(fold_chunk_sums(sums, chunks, size_t(g.c), size_t(ch)) / batch_count(g));
}

void batch_norm_variance(const BatchNormGeometry& g, const double* sums, int chunks,
                         const float* mean, float* moving_mean, float* moving_variance,
                         float* inv_std, int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    const float variance =
        float(fold_chunk_sums(sums, chunks, size_t(g.c), size_t(ch)) / batch_count(g));
    moving_mean[ch] = moving_mean[ch] * g.momentum + mean[ch] * g.one_minus_momentum;
    moving_variance[ch] = moving_variance[ch] * g.momentum + variance * g.one_minus_momentum;
    inv_std[ch] = 1.0f / std::sqrt(variance + g.epsilon);
  }
}

// Built for wider ISAs too (core/wider_isas.h): its values are independent elements.
REPRO_WIDER_ISAS void batch_norm_apply(const BatchNormGeometry& g, const float* x,
                                       const float* gamma, const float* beta, const float* mean,
                                       const float* variance, const float* inv_std, float* y,
                                       int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    const float scale = inv_std ? inv_std[ch] : 1.0f / std::sqrt(variance[ch] + g.epsilon);
    const float inv = gamma ? scale * gamma[ch] : scale;
    const float shift = beta ? -mean[ch] * inv + beta[ch] : -mean[ch] * inv;
    for (int b = 0; b < g.n; b++) {
      const size_t base = (size_t(b) * g.c + ch) * g.hw;
      for (int p = 0; p < g.hw; p++) y[base + p] = x[base + p] * inv + shift;
    }
  }
}

void batch_norm_grad_sums(const BatchNormGeometry& g, const float* x, const float* saved_mean,
                          const float* saved_inv_std, const float* dy, double* sums, int c0,
                          int c1) {
  const int chunks = chunk_count(g.n);
  for (int ch = c0; ch < c1; ch++) {
    const double mean = saved_mean[ch], inv_std = saved_inv_std[ch];
    for (int k = 0; k < chunks; k++) {
      double* out = sums + (size_t(k) * g.c + ch) * 2;
      out[0] = chunk_sum(g, x, k, ch, [dy](size_t i, float) { return double(dy[i]); });
      out[1] = chunk_sum(g, x, k, ch, [&](size_t i, float v) {
        return double(dy[i]) * (double(v) - mean) * inv_std;
      });
    }
  }
}

void batch_norm_param_grads(const BatchNormGeometry& g, const double* sums, float* dgamma,
                            float* dbeta, int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    const auto chunk_sums = [&](int k) {
      const double* s = sums + (size_t(k) * g.c + ch) * 2;
      return std::pair{float(s[1]), float(s[0])};
    };
    store_scale_shift_grads(g.chunk_grads, chunk_count(g.n), g.c, ch, chunk_sums, dgamma, dbeta);
  }
}

REPRO_WIDER_ISAS void batch_norm_input_grad(const BatchNormGeometry& g, const float* x,
                                            const float* gamma, const float* saved_mean,
                                            const float* saved_inv_std, const double* sums,
                                            int chunks, const float* dy, float* dx, int c0,
                                            int c1) {
  const double count = batch_count(g);
  for (int ch = c0; ch < c1; ch++) {
    const double mean = saved_mean[ch], inv_std = saved_inv_std[ch];
    const double sum_dy = fold_chunk_sums(sums, chunks, size_t(g.c) * 2, size_t(ch) * 2);
    const double sum_dy_xhat = fold_chunk_sums(sums, chunks, size_t(g.c) * 2, size_t(ch) * 2 + 1);
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

void batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                        const float* gamma, const float* beta, float* moving_mean,
                        float* moving_variance, float* saved_mean, float* saved_inv_std, float* y,
                        int c0, int c1) {
  if (!training)
    return batch_norm_apply(g, x, gamma, beta, moving_mean, moving_variance, nullptr, y, c0, c1);
  const int chunks = chunk_count(g.n);
  std::vector<double> sums(size_t(chunks) * g.c);
  batch_norm_chunk_sums(g, x, nullptr, sums.data(), c0, c1);
  batch_norm_mean(g, sums.data(), chunks, saved_mean, c0, c1);
  batch_norm_chunk_sums(g, x, saved_mean, sums.data(), c0, c1);
  batch_norm_variance(g, sums.data(), chunks, saved_mean, moving_mean, moving_variance,
                      saved_inv_std, c0, c1);
  batch_norm_apply(g, x, gamma, beta, saved_mean, nullptr, saved_inv_std, y, c0, c1);
}

void batch_norm_backward(const BatchNormGeometry& g, const float* x, const float* gamma,
                         const float* saved_mean, const float* saved_inv_std, const float* dy,
                         float* dx, float* dgamma, float* dbeta, int c0, int c1) {
  const int chunks = chunk_count(g.n);
  std::vector<double> sums(size_t(chunks) * g.c * 2);
  batch_norm_grad_sums(g, x, saved_mean, saved_inv_std, dy, sums.data(), c0, c1);
  batch_norm_param_grads(g, sums.data(), dgamma, dbeta, c0, c1);
  if (dx)
    batch_norm_input_grad(g, x, gamma, saved_mean, saved_inv_std, sums.data(), chunks, dy, dx, c0,
                          c1);
}

}  // namespace repro::reference
