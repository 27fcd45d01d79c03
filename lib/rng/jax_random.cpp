// jax.random's float32 distributions over the classic threefry bits, rounded as XLA rounds them.
// Sources read: jax/_src/prng.py (threefry_2x32, _threefry_random_bits_original),
// jax/_src/random.py (_uniform, _normal_real, _truncated_normal), xla/client/lib/math.cc,
// xla/service/elemental_ir_emitter.cc (log1p), xla/service/cpu/llvm_ir_runtime.cc (log).
// Not here: JAX's partitionable layout, key splitting, dtypes other than float32.
//
// Rounding: this file is built with ISO C++ (no -ffp-contract=fast), so a*b+c rounds twice
// unless written std::fma. XLA's CPU compiler builds with FMA fusion allowed, and LLVM contracts
// a multiply whose only use is an add: Horner steps and uniform's floats*(max-min)+min. A
// multiply with several uses (x*x in erf_inv's log1p, x*x in erf) stays a separate rounding.
#include "rng/jax_random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "rng/parallel.h"
#include "rng/threefry.h"

namespace repro {

JaxKey jax_key_from_seed(uint32_t seed) { return JaxKey{seed, 0u}; }

uint32_t jax_random_bits(JaxKey key, int64_t n, int64_t i) {
  const int64_t half = (n + 1) / 2;  // length of each half after padding an odd n with one 0
  const int64_t pair = i < half ? i : i - half;
  const int64_t second = pair + half;  // counter in the second half; the pad (== n) is a 0
  const uint32_t x0 = static_cast<uint32_t>(pair);
  const uint32_t x1 = second < n ? static_cast<uint32_t>(second) : 0u;
  uint32_t out[2];
  threefry2x32(key.k0, key.k1, x0, x1, out);
  return i < half ? out[0] : out[1];
}

namespace {

float bits_as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// jax _uniform before scaling: 23 mantissa bits under exponent 0, minus 1 -> [0, 1).
float unit_float(uint32_t bits) { return bits_as_float((bits >> 9) | 0x3F800000u) - 1.0f; }

// jax _uniform: max(minval, floats * (maxval - minval) + minval), the multiply-add contracted.
float scale_uniform(float unit, float minval, float maxval) {
  const float span = maxval - minval;
  return std::max(minval, std::fma(unit, span, minval));
}

// XLA's EvaluatePolynomial: poly = poly * x + c from poly = 0, each step one fused multiply-add.
template <size_t N>
float horner_fma(float x, const float (&coefficients)[N]) {
  float poly = 0.0f;
  for (float c : coefficients) poly = std::fma(poly, x, c);
  return poly;
}

uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// XLA's CPU log (xla/service/cpu/llvm_ir_runtime.cc GenerateVF32Log, which replaces every
// llvm.log.f32): Cephes' polynomial on the mantissa in [sqrt(1/2), sqrt(2)). Every multiply
// whose one use is an add is contracted; where an add has two such operands, the first fuses.
float xla_log_f32(float input) {
  if (std::isnan(input) || input < 0.0f) return std::numeric_limits<float>::quiet_NaN();
  if (input == 0.0f) return -std::numeric_limits<float>::infinity();
  if (std::isinf(input)) return input;
  float x = std::max(bits_as_float(0x00800000u), input);  // denormals cut off
  const int32_t exponent = static_cast<int32_t>(float_bits(x) >> 23) - 0x7f;
  x = bits_as_float((float_bits(x) & ~0x7f800000u) | float_bits(0.5f));  // [0.5, 1)
  float e = 1.0f + static_cast<float>(exponent);
  const bool below = x < 0.707106781186547524f;
  const float twice = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + twice;  // x - 1, or 2x - 1 below sqrt(1/2): exact either way
  const float x2 = x * x;
  const float x3 = x2 * x;
  float y = std::fma(x, 7.0376836292E-2f, -1.1514610310E-1f);
  float y1 = std::fma(x, -1.2420140846E-1f, 1.4249322787E-1f);
  float y2 = std::fma(x, 2.0000714765E-1f, -2.4999993993E-1f);
  y = std::fma(y, x, 1.1676998740E-1f);
  y1 = std::fma(y1, x, -1.6668057665E-1f);
  y2 = std::fma(y2, x, 3.3333331174E-1f);
  y = std::fma(y, x3, y1);
  y = std::fma(y, x3, y2);
  const float q1e = -2.12194440e-4f * e;
  y = std::fma(y, x3, q1e);  // (y * x3) + q1 * e: the first product fuses
  x = x - 0.5f * x2;         // an exact product, fused or not
  x = x + y;
  return std::fma(0.693359375f, e, x);
}

// XLA's log1p (xla/service/elemental_ir_emitter.cc EmitLog1p): log(1 + y), with 1 + y rounded,
// for |y| >= sqrt(2) - 1; below that Cephes' rational y - y^2/2 + y^3 P(y)/Q(y) with Horner
// steps fused. y*y has several uses, so it is rounded on its own.
float xla_log1p_f32(float y) {
  if (!(std::fabs(y) < 0.41421356237309504880f)) return xla_log_f32(1.0f + y);
  static const double numerator[] = {4.5270000862445199635215E-5, 4.9854102823193375972212E-1,
                                     6.5787325942061044846969E0,  2.9911919328553073277375E1,
                                     6.0949667980987787057556E1,  5.7112963590585538103336E1,
                                     2.0039553499201281259648E1};
  static const double denominator[] = {1.,
                                       1.5062909083469192043167E1,
                                       8.3047565967967209469434E1,
                                       2.2176239823732856465394E2,
                                       3.0909872225312059774938E2,
                                       2.1642788614495947685003E2,
                                       6.0118660497603843919306E1};
  float p = 0.0f, q = 0.0f;
  for (double c : numerator) p = std::fma(p, y, static_cast<float>(c));
  for (double c : denominator) q = std::fma(q, y, static_cast<float>(c));
  const float y2 = y * y;
  const float cubic = (y * y2) * (p / q);
  return y + (-0.5f * y2 + cubic);  // -0.5 * y2 is exact, so its fusion changes nothing
}

}  // namespace

float xla_erf_f32(float x) {
  // ErfImpl32: x * P(x^2) / Q(x^2), x clamped to +-erfinv(1 - 2^-23) where erf rounds to +-1.
  static const float alpha[] = {0.00022905065861350646f, 0.0034082910107109506f,
                                0.050955695062380861f, 0.18520832239976145f, 1.128379143519084f};
  static const float beta[] = {-1.1791602954361697e-7f,
                               0.000023547966471313185f,
                               0.0010179625278914885f,
                               0.014070470171167667f,
                               0.11098505178285362f,
                               0.49746925110067538f,
                               1.0f};
  constexpr float kClamp = 3.7439211627767994f;
  x = std::min(std::max(x, -kClamp), kClamp);
  const float x2 = x * x;
  return (x * horner_fma(x2, alpha)) / horner_fma(x2, beta);
}

float xla_erf_inv_f32(float x) {
  // ErfInv32 (Giles, "Approximating the erfinv function"), w = -log1p(-x*x).
  static const float small[] = {2.81022636e-08f,  3.43273939e-07f, -3.5233877e-06f,
                                -4.39150654e-06f, 0.00021858087f,  -0.00125372503f,
                                -0.00417768164f,  0.246640727f,    1.50140941f};
  static const float large[] = {-0.000200214257f, 0.000100950558f, 0.00134934322f,
                                -0.00367342844f,  0.00573950773f,  -0.0076224613f,
                                0.00943887047f,   1.00167406f,     2.83297682f};
  if (std::fabs(x) == 1.0f) return x * std::numeric_limits<float>::max();
  const float neg_x2 = (-x) * x;  // several uses in XLA's log1p: not contracted
  float w = -xla_log1p_f32(neg_x2);
  const bool lt5 = w < 5.0f;
  const float* c = lt5 ? small : large;
  w = lt5 ? w - 2.5f : std::sqrt(w) - 3.0f;
  float p = c[0];
  for (int i = 1; i < 9; ++i) p = std::fma(p, w, c[i]);
  return p * x;
}

static void check_draw_size(int64_t n) {
  if (n < 0 || n >= 0xFFFFFFFFll)
    throw InputError("a jax draw of " + std::to_string(n) +
                     " values is outside the one-block threefry layout (at most 2^32 - 2)");
}

void jax_uniform(JaxKey key, int64_t n, float minval, float maxval, float* out, int threads) {
  check_draw_size(n);
  parallel_blocks(n, 1, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = scale_uniform(unit_float(jax_random_bits(key, n, i)), minval, maxval);
  });
}

void jax_normal(JaxKey key, int64_t n, float* out, int threads) {
  check_draw_size(n);
  // _normal_real: uniform on (nextafter(-1, 0), 1), then sqrt(2) * erf_inv(u).
  const float lo = std::nextafter(-1.0f, 0.0f);
  const float sqrt2 = static_cast<float>(std::sqrt(2.0));
  parallel_blocks(n, 1, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float u = scale_uniform(unit_float(jax_random_bits(key, n, i)), lo, 1.0f);
      out[i] = sqrt2 * xla_erf_inv_f32(u);
    }
  });
}

void jax_truncated_normal(JaxKey key, int64_t n, float lower, float upper, float* out,
                          int threads) {
  check_draw_size(n);
  // _truncated_normal: u uniform on [erf(lower/sqrt2), erf(upper/sqrt2)), sqrt2 * erf_inv(u),
  // clipped to the open interval (lower, upper).
  const float sqrt2 = static_cast<float>(std::sqrt(2.0));
  const float a = xla_erf_f32(lower / sqrt2);
  const float b = xla_erf_f32(upper / sqrt2);
  const float lo = std::nextafter(lower, std::numeric_limits<float>::infinity());
  const float hi = std::nextafter(upper, -std::numeric_limits<float>::infinity());
  parallel_blocks(n, 1, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float u = scale_uniform(unit_float(jax_random_bits(key, n, i)), a, b);
      const float v = sqrt2 * xla_erf_inv_f32(u);
      out[i] = std::min(std::max(v, lo), hi);
    }
  });
}

}  // namespace repro
