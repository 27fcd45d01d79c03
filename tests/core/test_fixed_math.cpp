// core/fixed_math.h: the schedules' ln, exp, pow and cos agree with the C library to a few
// binary64 ulp over the ranges they are used on, and their bits are pinned (they are the
// project's own operation order, the same on every architecture: a change must be deliberate).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/fixed_math.h"

namespace {

uint64_t bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// |a - b| in units of b's last place.
double ulps(double a, double b) {
  return std::fabs(a - b) / (std::nextafter(std::fabs(b), INFINITY) - std::fabs(b));
}

}  // namespace

TEST_CASE("fixed ln, exp, pow and cos are within a few binary64 ulp of the C library's",
          "[fixed_math]") {
  double worst_ln = 0, worst_exp = 0, worst_pow = 0, worst_cos = 0;
  for (int i = 1; i <= 4000; ++i) {
    const double x = i / 400.0;  // (0, 10]
    if (x != 1.0) worst_ln = std::max(worst_ln, ulps(repro::fixed::ln(x), std::log(x)));
    const double e = (i - 2000) / 40.0;  // [-50, 50]
    worst_exp = std::max(worst_exp, ulps(repro::fixed::exp(e), std::exp(e)));
    const double rate = 0.05 + (i % 97) / 100.0, p = i / 137.0;  // a decay rate, an exponent
    worst_pow = std::max(worst_pow, ulps(repro::fixed::pow(rate, p), std::pow(rate, p)));
    const double angle = M_PI * i / 4000.0;  // [0, pi], as cosine_decay uses it
    // Near pi / 2 the cosine is near 0: compare absolutely there.
    const double c = std::cos(angle);
    if (std::fabs(c) > 1e-3)
      worst_cos = std::max(worst_cos, ulps(repro::fixed::cos(angle), c));
    else
      CHECK(std::fabs(repro::fixed::cos(angle) - c) < 1e-17);
  }
  INFO("ln " << worst_ln << " exp " << worst_exp << " pow " << worst_pow << " cos " << worst_cos);
  CHECK(worst_ln <= 4);
  CHECK(worst_exp <= 4);
  // e^(y ln x): y ln x (up to 87 here) carries its rounding into e^; the schedules round the
  // result to float32, whose ulp is 2^29 of these.
  CHECK(worst_pow <= 128);
  CHECK(worst_cos <= 8);
  CHECK(repro::fixed::exp(0.0) == 1.0);
  CHECK(repro::fixed::ln(1.0) == 0.0);
  CHECK(repro::fixed::cos(0.0) == 1.0);
  CHECK(repro::fixed::cos(-1.25) == repro::fixed::cos(1.25));
  CHECK(std::fabs(repro::fixed::cos(7.0) - std::cos(7.0)) < 1e-15);  // past 2 pi
}

// The same four values, built with -ffp-contract=off by g++ for x86-64, aarch64 and riscv64 and
// run (the latter two under qemu-user), printed these bits on all three.
TEST_CASE("fixed math's bits are pinned", "[fixed_math]") {
  CHECK(bits(repro::fixed::ln(10.0)) == 0x40026bb1bbb55515ull);
  CHECK(bits(repro::fixed::exp(-3.5)) == 0x3f9eec1018e4ff66ull);
  CHECK(bits(repro::fixed::pow(0.96, 12.5)) == 0x3fe335e8527277f4ull);
  CHECK(bits(repro::fixed::cos(2.0)) == 0xbfdaa22657537205ull);
}
