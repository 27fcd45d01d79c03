// Reference layer normalization (backend.h): each (image, position) normalized over its channels.
// Rows are independent, so the forward and dx split over images freely; dgamma and dbeta sum over
// the batch per chunk of kChunk images and fold the chunk sums in chunk order, the rule a split of
// the chunks over ranks reproduces.
#include <cmath>

#include "backend/reference/reference_ops.h"
#include "core/chunk.h"

namespace repro::reference {

namespace {

size_t at(const LayerNormGeometry& g, int b, int ch, int p) {
  return (size_t(b) * g.c + ch) * g.hw + p;
}

}  // namespace

void layer_norm_forward(const LayerNormGeometry& g, const float* x, const float* gamma,
                        const float* beta, float* saved_mean, float* saved_inv_std, float* y,
                        int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    for (int p = 0; p < g.hw; p++) {
      double sum = 0;
      for (int ch = 0; ch < g.c; ch++) sum += x[at(g, b, ch, p)];
      const float mean = float(sum / g.c);
      double squares = 0;
      for (int ch = 0; ch < g.c; ch++) {
        const double d = double(x[at(g, b, ch, p)]) - mean;
        squares += d * d;
      }
      const float variance = float(squares / g.c);
      const float inv_std = 1.0f / std::sqrt(variance + g.epsilon);
      const size_t row = size_t(b) * g.hw + p;
      saved_mean[row] = mean;
      saved_inv_std[row] = inv_std;
      for (int ch = 0; ch < g.c; ch++) {
        const float inv = gamma ? inv_std * gamma[ch] : inv_std;
        const float shift = beta ? -mean * inv + beta[ch] : -mean * inv;
        y[at(g, b, ch, p)] = x[at(g, b, ch, p)] * inv + shift;
      }
    }
  }
}

void layer_norm_input_grad(const LayerNormGeometry& g, const float* x, const float* gamma,
                           const float* saved_mean, const float* saved_inv_std, const float* dy,
                           float* dx, int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    for (int p = 0; p < g.hw; p++) {
      const size_t row = size_t(b) * g.hw + p;
      const double mean = saved_mean[row], inv_std = saved_inv_std[row];
      double sum_g = 0, sum_g_xhat = 0;
      for (int ch = 0; ch < g.c; ch++) {
        const size_t i = at(g, b, ch, p);
        const double grad = double(dy[i]) * (gamma ? gamma[ch] : 1.0f);
        sum_g += grad;
        sum_g_xhat += grad * ((double(x[i]) - mean) * inv_std);
      }
      const double mean_g = sum_g / g.c, mean_g_xhat = sum_g_xhat / g.c;
      for (int ch = 0; ch < g.c; ch++) {
        const size_t i = at(g, b, ch, p);
        const double grad = double(dy[i]) * (gamma ? gamma[ch] : 1.0f);
        const double xhat = (double(x[i]) - mean) * inv_std;
        dx[i] = float(inv_std * (grad - mean_g - xhat * mean_g_xhat));
      }
    }
  }
}

void layer_norm_param_grads(const LayerNormGeometry& g, const float* x, const float* saved_mean,
                            const float* saved_inv_std, const float* dy, float* dgamma,
                            float* dbeta, int c0, int c1) {
  for (int ch = c0; ch < c1; ch++) {
    const auto chunk_sums = [&](int k) {
      double sum_gamma = 0, sum_beta = 0;
      for (int b = k * kChunk; b < (k + 1) * kChunk && b < g.n; b++)
        for (int p = 0; p < g.hw; p++) {
          const size_t row = size_t(b) * g.hw + p, i = at(g, b, ch, p);
          sum_gamma += double(dy[i]) * ((double(x[i]) - saved_mean[row]) * saved_inv_std[row]);
          sum_beta += dy[i];
        }
      return std::pair{float(sum_gamma), float(sum_beta)};
    };
    store_scale_shift_grads(g.chunk_grads, chunk_count(g.n), g.c, ch, chunk_sums, dgamma, dbeta);
  }
}

}  // namespace repro::reference
