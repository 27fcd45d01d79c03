// exp and log for the portable backend's softmax cross-entropy: fixed sequences of float32
// operations (Cody-Waite range reduction, Horner polynomials), the same bits on every CPU,
// compiler and GPU that follows docs/design/portable.md. Within 2 ulp of the true values on the
// ranges softmax uses; not a general libm (no errno, no correctly rounded results).
// Compiled with -ffp-contract=off like the rest of the backend, and by nvcc (-fmad=false) for
// the GPU kernels of the same order (REPRO_HD).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/hd.h"

namespace repro::portable {

REPRO_HD float bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
REPRO_HD uint32_t float_to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

// ln 2 split so that n * kLn2Hi is exact for |n| < 2^15.
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;

// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-7 Taylor polynomial, times 2^n.
// Results below 2^-126 flush to +0 (x < -87); x > 88 gives +inf; NaN stays NaN.
REPRO_HD float exp_f32(float x) {
  if (x != x) return x;
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return bits_to_float(0x7f800000u);
  // Round x / ln2 to the nearest integer (ties to even) with the 1.5 * 2^23 trick.
  float t = x * 1.44269504f;
  float n = (t + 12582912.0f) - 12582912.0f;
  float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int e = int(n);  // in [-126, 127]
  if (e < -126) return 0.0f;
  if (e > 127) return bits_to_float(0x7f800000u);
  return p * bits_to_float(uint32_t(e + 127) << 23);
}

// ln x for x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m-1)/(m+1),
// by its odd series to s^11. ln 0 = -inf, ln of a negative or NaN = NaN, ln inf = inf.
REPRO_HD float log_f32(float x) {
  if (x != x || x < 0.0f) return bits_to_float(0x7fc00000u);
  if (x == 0.0f) return -bits_to_float(0x7f800000u);
  if (x == bits_to_float(0x7f800000u)) return x;  // +inf
  int e = 0;
  if (x < 1.17549435e-38f) {  // subnormal: scale into the normal range first
    x = x * 16777216.0f;      // 2^24, exact
    e = -24;
  }
  uint32_t u = float_to_bits(x);
  e += int(u >> 23) - 127;
  float m = bits_to_float((u & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  if (m > 1.41421356f) {
    m = m * 0.5f;
    e += 1;
  }
  float f = m - 1.0f;
  float s = f / (2.0f + f);
  float z = s * s;
  float p = 2.0f / 11.0f;
  p = p * z + 2.0f / 9.0f;
  p = p * z + 2.0f / 7.0f;
  p = p * z + 2.0f / 5.0f;
  p = p * z + 2.0f / 3.0f;
  float log_m = s * 2.0f + (s * z) * p;
  float fe = float(e);
  return fe * kLn2Hi + (fe * kLn2Lo + log_m);
}

// sigmoid(x) = 1 / (1 + exp(-x)) with exp_f32.
REPRO_HD float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

// tanh x: for |x| < 0.0625 the odd series x + x^3 (-1/3 + x^2 (2/15 - x^2 17/315)); otherwise
// with t = exp(-2|x|), (1 - t) / (1 + t), given the sign of x. NaN stays NaN.
REPRO_HD float tanh_f32(float x) {
  if (x != x) return x;
  float a = x < 0.0f ? -x : x;
  if (a < 0.0625f) {
    float x2 = x * x;
    float p = -17.0f / 315.0f;
    p = p * x2 + 2.0f / 15.0f;
    p = p * x2 + -1.0f / 3.0f;
    return x + (x * x2) * p;
  }
  float t = exp_f32(-2.0f * a);
  float r = (1.0f - t) / (1.0f + t);
  return x < 0.0f ? -r : r;
}

// erfc x from one Chebyshev-fitted expression (Press et al., Numerical Recipes, "erfcc"; relative
// error below 1.2e-7 in exact arithmetic, about 1e-6 in float32): with z = |x| and
// t = 1 / (1 + z/2), erfc z = t exp(-z^2 + P(t)), P of degree 9 by Horner; erfc(-z) = 2 - erfc z.
// NaN stays NaN.
REPRO_HD float erfc_f32(float x) {
  if (x != x) return x;
  const float z = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t + -0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t + -1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t + -0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t + -1.26551223f;
  const float r = t * exp_f32(-(z * z) + p);
  return x < 0.0f ? 2.0f - r : r;
}

// Adam's per-step scalars (host side, shared by the CPU and GPU portable backends):
// alpha = lr * sqrt(1 - b2t) / (1 - b1t) with beta^t by squaring in binary64, rounded once, and
// 1 - beta in binary64 from the shortest decimal of beta (what the user wrote, as Keras does).
struct AdamScalars {
  float alpha, one_minus_beta_1, one_minus_beta_2;
};
inline double power_by_squaring(float base, int64_t t) {
  double result = 1.0, b = base;
  for (int64_t e = t; e > 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return result;
}
inline float one_minus_decimal(float beta) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), beta);
  return float(1.0 - std::stod(std::string(text, end)));
}
inline AdamScalars adam_scalars(float learning_rate, float beta_1, float beta_2, int64_t step) {
  const float b1t = float(power_by_squaring(beta_1, step));
  const float b2t = float(power_by_squaring(beta_2, step));
  return {learning_rate * std::sqrt(1.0f - b2t) / (1.0f - b1t), one_minus_decimal(beta_1),
          one_minus_decimal(beta_2)};
}

}  // namespace repro::portable
