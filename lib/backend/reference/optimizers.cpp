// Keras 3 Adam, SGD and RMSprop update rules and AdamW's decoupled weight decay, in float32
// with the same op order as keras/src/optimizers (adam.py, sgd.py, rmsprop.py, the base
// optimizer's _apply_weight_decay), so a run's weights follow Keras's as closely as float32
// allows. Not here: amsgrad, clipping, EMA (not offered by the config).
#include <charconv>
#include <cmath>
#include <string>

#include "backend/reference/reference_ops.h"

namespace repro::reference {

namespace {

// Keras computes `1 - beta` in Python double from the user's decimal (1 - 0.9 = 0.0999...98),
// then rounds to float32. AdamParams holds float32 betas, so recover the user's shortest decimal
// first; 1 - double(0.9f) would round to a different float (0.100000024 instead of 0.1).
float one_minus(float beta) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), beta);
  double decimal = std::stod(std::string(text, end));
  return float(1.0 - decimal);
}

}  // namespace

void adam_update(float* w, const float* g, float* m, float* v, size_t n, const AdamParams& p) {
  float t = float(p.step);
  float beta_1_power = std::pow(p.beta_1, t);
  float beta_2_power = std::pow(p.beta_2, t);
  float alpha = p.learning_rate * std::sqrt(1.0f - beta_2_power) / (1.0f - beta_1_power);
  float one_minus_beta_1 = one_minus(p.beta_1);
  float one_minus_beta_2 = one_minus(p.beta_2);
  for (size_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * one_minus_beta_1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
    w[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + p.epsilon);
  }
}

void rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                    float* average_gradient, size_t n, const RmspropParams& p) {
  const float one_minus_rho = one_minus(p.rho);
  for (size_t i = 0; i < n; i++) {
    velocity[i] = p.rho * velocity[i] + one_minus_rho * (g[i] * g[i]);
    float denominator;
    if (p.centered) {
      average_gradient[i] = p.rho * average_gradient[i] + one_minus_rho * g[i];
      denominator = velocity[i] - average_gradient[i] * average_gradient[i] + p.epsilon;
    } else {
      denominator = velocity[i] + p.epsilon;
    }
    const float increment = (p.learning_rate * g[i]) / std::sqrt(denominator);
    if (p.momentum > 0.0f) {
      momentum[i] = p.momentum * momentum[i] + increment;
      w[i] -= momentum[i];
    } else {
      w[i] -= increment;
    }
  }
}

void weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate) {
  for (size_t i = 0; i < n; i++) w[i] = w[i] - w[i] * weight_decay * learning_rate;
}

void sgd_update(float* w, const float* g, float* velocity, size_t n, const SgdParams& p) {
  if (p.momentum == 0.0f) {
    for (size_t i = 0; i < n; i++) w[i] -= g[i] * p.learning_rate;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    velocity[i] = velocity[i] * p.momentum - g[i] * p.learning_rate;
    if (p.nesterov)
      w[i] += velocity[i] * p.momentum - g[i] * p.learning_rate;
    else
      w[i] += velocity[i];
  }
}

}  // namespace repro::reference
