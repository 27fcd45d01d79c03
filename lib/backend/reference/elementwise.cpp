// Reference element-wise kernels: layout transposes for Keras's (H, W, C) flatten order,
// activations and inverted dropout. Each output element depends on its own index only, so any split
// of the range over threads gives the same bits.
#include <algorithm>
#include <cmath>

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

void activation_forward(ActivationFn f, const float* x, float* y, size_t begin, size_t end) {
  switch (f) {
    case ActivationFn::relu:
      for (size_t i = begin; i < end; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case ActivationFn::sigmoid:
      for (size_t i = begin; i < end; i++) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
      break;
    case ActivationFn::tanh:
      for (size_t i = begin; i < end; i++) y[i] = std::tanh(x[i]);
      break;
    case ActivationFn::elu:
      for (size_t i = begin; i < end; i++) y[i] = x[i] > 0.0f ? x[i] : std::expm1(x[i]);
      break;
    case ActivationFn::leaky_relu:
      for (size_t i = begin; i < end; i++) y[i] = x[i] >= 0.0f ? x[i] : kLeakyReluSlope * x[i];
      break;
    case ActivationFn::softplus:
      for (size_t i = begin; i < end; i++)
        y[i] = std::max(x[i], 0.0f) + std::log1p(std::exp(-std::fabs(x[i])));
      break;
    case ActivationFn::hard_sigmoid:
      for (size_t i = begin; i < end; i++)
        y[i] = std::min(std::max(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
      break;
    case ActivationFn::gelu:
      for (size_t i = begin; i < end; i++) y[i] = 0.5f * x[i] * std::erfc(-x[i] * kSqrtHalf);
      break;
    case ActivationFn::gelu_approximate:
      for (size_t i = begin; i < end; i++) {
        const float v = x[i];
        y[i] = v * (0.5f * (1.0f + std::tanh(kSqrt2OverPi * (v + kGeluCubic * (v * v * v)))));
      }
      break;
    case ActivationFn::silu:
      for (size_t i = begin; i < end; i++) y[i] = x[i] * (1.0f / (1.0f + std::exp(-x[i])));
      break;
  }
}

void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy, float* dx,
                         size_t begin, size_t end) {
  switch (f) {
    case ActivationFn::relu:
      for (size_t i = begin; i < end; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case ActivationFn::sigmoid:
      for (size_t i = begin; i < end; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
      break;
    case ActivationFn::tanh:
      for (size_t i = begin; i < end; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case ActivationFn::elu:
      for (size_t i = begin; i < end; i++) dx[i] = y[i] > 0.0f ? dy[i] : dy[i] * (y[i] + 1.0f);
      break;
    case ActivationFn::leaky_relu:
      for (size_t i = begin; i < end; i++) dx[i] = y[i] >= 0.0f ? dy[i] : dy[i] * kLeakyReluSlope;
      break;
    case ActivationFn::softplus:
      for (size_t i = begin; i < end; i++) dx[i] = dy[i] * (1.0f - std::exp(-y[i]));
      break;
    case ActivationFn::hard_sigmoid:
      for (size_t i = begin; i < end; i++) dx[i] = y[i] > 0.0f && y[i] < 1.0f ? dy[i] / 6.0f : 0.0f;
      break;
    case ActivationFn::gelu:  // Phi(x) + x phi(x)
      for (size_t i = begin; i < end; i++) {
        const float v = x[i];
        const float cdf = 0.5f * std::erfc(-v * kSqrtHalf);
        const float pdf = kInvSqrt2Pi * std::exp(-0.5f * (v * v));
        dx[i] = dy[i] * (cdf + v * pdf);
      }
      break;
    case ActivationFn::gelu_approximate:  // with t = tanh(u), u = c (x + a x^3)
      for (size_t i = begin; i < end; i++) {
        const float v = x[i];
        const float t = std::tanh(kSqrt2OverPi * (v + kGeluCubic * (v * v * v)));
        const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * (v * v));
        dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * ((1.0f - t * t) * du));
      }
      break;
    case ActivationFn::silu:  // s (1 + x (1 - s))
      for (size_t i = begin; i < end; i++) {
        const float s = 1.0f / (1.0f + std::exp(-x[i]));
        dx[i] = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
      }
      break;
  }
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
