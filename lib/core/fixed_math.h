// ln, e^x, x^y and cos in binary64 as fixed sequences of operations (no libm call, built with
// -ffp-contract=off like every file), for the few values that set bits outside the kernels: the
// learning-rate schedules. The same bits on every CPU, architecture and compiler; within a few
// binary64 ulp of the true values, so a float result rounded from one is the correctly rounded
// float but for inputs within that distance of a rounding boundary. Not a general libm: finite
// arguments in the ranges below, no errno.
#pragma once

#include <cstdint>
#include <cstring>

namespace repro::fixed {

inline double from_bits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}
inline uint64_t to_bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

constexpr double kLn2 = 0.6931471805599453094;  // rounded to binary64
constexpr double kPi = 3.14159265358979323846;  // rounded to binary64
constexpr double kSqrtHalf = 0.70710678118654752440;

// ln x for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s) with
// s = (m - 1) / (m + 1), |s| < 0.172, by its odd series to s^25.
inline double ln(double x) {
  uint64_t bits = to_bits(x);
  int e = int((bits >> 52) & 0x7ff) - 1023;
  double m = from_bits((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
  if (e == -1023) {  // subnormal: scale by 2^64 first
    const double scaled = x * 18446744073709551616.0;
    bits = to_bits(scaled);
    e = int((bits >> 52) & 0x7ff) - 1023 - 64;
    m = from_bits((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  }
  if (m > 2.0 * kSqrtHalf) {
    m = m / 2.0;
    e = e + 1;
  }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double series = 1.0 / 25.0;
  for (int k = 23; k >= 1; k -= 2) series = series * s2 + 1.0 / double(k);
  return double(e) * kLn2 + 2.0 * s * series;
}

// e^x for |x| < 700: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, so that n * the high
// part is exact), e^r by Taylor to r^18, times 2^n.
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
constexpr double kLn2Lo = 1.90821492927058770002e-10;
inline double exp(double x) {
  const double t = x / kLn2;
  const double n = t >= 0 ? double(int64_t(t + 0.5)) : -double(int64_t(0.5 - t));
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0;
  for (int k = 18; k >= 1; --k) p = 1.0 + p * r / double(k);
  return p * from_bits(uint64_t(int64_t(n) + 1023) << 52);
}

// x^y for finite x > 0 and |y ln x| < 700, as e^(y ln x).
inline double pow(double x, double y) { return exp(y * ln(x)); }

// cos x for |x| <= 2^20: x reduced to a in [0, pi] (cos is even and 2 pi periodic), then to
// r within pi / 4 of 0, pi / 2 or pi (those in two parts, so the subtraction is nearly exact):
// cos a = cos r, -sin r or -cos r, by their Taylor series to r^26 and r^27.
constexpr double kPio2Hi = 1.57079632673412561417e+00;  // 0x3ff921fb54400000
constexpr double kPio2Lo = 6.07710050650619224932e-11;
inline double cos_series(double r) {  // cos r for |r| <= pi / 4
  const double r2 = r * r;
  double series = 1.0;
  for (int k = 26; k >= 2; k -= 2) series = 1.0 - series * r2 / double(k * (k - 1));
  return series;
}
inline double sin_series(double r) {  // sin r for |r| <= pi / 4
  const double r2 = r * r;
  double series = 1.0;
  for (int k = 27; k >= 3; k -= 2) series = 1.0 - series * r2 / double(k * (k - 1));
  return r * series;
}
inline double cos(double x) {
  double a = x < 0 ? -x : x;
  const double turns = double(int64_t(a / (2.0 * kPi)));
  a = (a - turns * (2.0 * kPio2Hi) * 2.0) - turns * (2.0 * kPio2Lo) * 2.0;
  if (a > kPi) a = ((4.0 * kPio2Hi) - a) + 4.0 * kPio2Lo;
  if (a <= kPi / 4.0) return cos_series(a);
  if (a <= 3.0 * kPi / 4.0) return -sin_series((a - kPio2Hi) - kPio2Lo);
  return -cos_series((a - 2.0 * kPio2Hi) - 2.0 * kPio2Lo);
}

}  // namespace repro::fixed
