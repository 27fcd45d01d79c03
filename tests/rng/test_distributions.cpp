// The Keras-compatible distributions: golden values from Keras 3 itself, the JAX bit layout,
// moments over 10^6 draws with bounds a wrong formula fails, and thread-count independence.
#include <catch2/catch.hpp>

#include "support/moments.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "init/initializers.h"
#include "rng/jax_random.h"
#include "rng/philox.h"
#include "rng/tf_random.h"
#include "rng/threefry.h"

using namespace repro;

namespace {

using repro_test::Moments;
using repro_test::moments;

constexpr int64_t kDraws = 1000000;
constexpr double kTruncatedVar = 0.87962566103423978 * 0.87962566103423978;  // N(0,1) on (-2, 2)

}  // namespace

TEST_CASE("RandomNormal(seed=42) at shape (1, 1) gives Keras 3's golden value on each backend") {
  CHECK(static_cast<double>(keras_random_normal(1, 0.0, 0.05, 42, RngKind::jax)[0]) ==
        0.05609520897269249);
  CHECK(static_cast<double>(keras_random_normal(1, 0.0, 0.05, 42, RngKind::tf)[0]) ==
        0.000790853810030967);
}

TEST_CASE("jax random bits split the counters into two halves, padding an odd count with 0") {
  const JaxKey key = jax_key_from_seed(42);
  CHECK(key.k0 == 42u);
  CHECK(key.k1 == 0u);
  // n = 4: pairs (0, 2) and (1, 3); outputs are [pair0.w0, pair1.w0, pair0.w1, pair1.w1].
  const auto p0 = threefry2x32({42u, 0u}, {0u, 2u});
  const auto p1 = threefry2x32({42u, 0u}, {1u, 3u});
  CHECK(jax_random_bits(key, 4, 0) == p0[0]);
  CHECK(jax_random_bits(key, 4, 1) == p1[0]);
  CHECK(jax_random_bits(key, 4, 2) == p0[1]);
  CHECK(jax_random_bits(key, 4, 3) == p1[1]);
  // n = 3: counters 0, 1, 2 plus a pad 0 -> pairs (0, 2) and (1, 0); the pad's output is dropped.
  const auto q1 = threefry2x32({42u, 0u}, {1u, 0u});
  CHECK(jax_random_bits(key, 3, 1) == q1[0]);
  CHECK(jax_random_bits(key, 3, 2) == p0[1]);
  // n = 1: the single pair (0, 0).
  CHECK(jax_random_bits(key, 1, 0) == threefry2x32({42u, 0u}, {0u, 0u})[0]);
}

TEST_CASE("TF's seed scrambling puts a Philox block of the seed into key and counter") {
  const PhiloxState s = tf_key_counter_from_seed(42, 0);
  const auto mix = philox4x32_10({0x3ec8f720u, 0x02461e29u}, {42u, 0u, 0u, 0u});
  CHECK(s.key[0] == mix[0]);
  CHECK(s.key[1] == mix[1]);
  CHECK(s.counter[0] == 0u);
  CHECK(s.counter[1] == 0u);
  CHECK(s.counter[2] == mix[2]);
  CHECK(s.counter[3] == mix[3]);
  // A negative int32 seed is sign-extended to 64 bits.
  const auto neg = philox4x32_10({0x3ec8f720u, 0x02461e29u}, {0xffffffffu, 0xffffffffu, 0u, 0u});
  CHECK(tf_key_counter_from_seed(-1, 0).key[0] == neg[0]);
}

TEST_CASE("philox_skip carries across the 128-bit counter") {
  PhiloxState s;
  s.counter[0] = 0xffffffffu;
  s.counter[1] = 0xffffffffu;
  const PhiloxState t = philox_skip(s, 1);
  CHECK(t.counter[0] == 0u);
  CHECK(t.counter[1] == 0u);
  CHECK(t.counter[2] == 1u);
  const PhiloxState u = philox_skip(PhiloxState{}, 0x100000002ull);
  CHECK(u.counter[0] == 2u);
  CHECK(u.counter[1] == 1u);
}

TEST_CASE("XLA's float32 erf and erf_inv are accurate inverses") {
  for (double x : {-0.999, -0.7, -0.3, 0.0, 0.1, 0.5, 0.9, 0.99999}) {
    const float y = xla_erf_inv_f32(static_cast<float>(x));
    CHECK(std::erf(static_cast<double>(y)) == Approx(x).margin(2e-6));
  }
  CHECK(xla_erf_f32(1.0f) == Approx(std::erf(1.0)).epsilon(1e-6));
  CHECK(xla_erf_inv_f32(1.0f) == std::numeric_limits<float>::max());  // XLA: x * float max
  CHECK(xla_erf_inv_f32(-1.0f) == -std::numeric_limits<float>::max());
}

TEST_CASE("normal draws have mean 0 and variance 1 over 10^6 values") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const Moments m = moments(keras_random_normal(kDraws, 0.0, 1.0, 7, rng));
    CHECK(std::fabs(m.mean) < 0.005);
    CHECK(m.var == Approx(1.0).epsilon(0.01));
    CHECK(m.min < -4.0);
    CHECK(m.max > 4.0);
  }
}

TEST_CASE("uniform draws stay in the half-open range minval..maxval with variance (max-min)^2/12") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const Moments m = moments(keras_random_uniform(kDraws, -0.5, 1.5, 7, rng));
    CHECK(m.min >= -0.5);
    CHECK(m.max < 1.5);
    CHECK(m.min < -0.499);
    CHECK(m.max > 1.499);
    CHECK(m.mean == Approx(0.5).margin(0.005));
    CHECK(m.var == Approx(4.0 / 12.0).epsilon(0.01));
  }
}

TEST_CASE("truncated normal draws stay inside (-2, 2) with the truncated variance") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const Moments m = moments(keras_truncated_normal(kDraws, 0.0, 1.0, 7, rng));
    CHECK(m.min > -2.0);
    CHECK(m.max < 2.0);
    CHECK(m.min < -1.99);
    CHECK(m.max > 1.99);
    CHECK(std::fabs(m.mean) < 0.005);
    CHECK(m.var == Approx(kTruncatedVar).epsilon(0.01));
  }
}

TEST_CASE("a large draw is bit-identical with 1 and 4 threads") {
  const int64_t n = 1 << 20 | 3;  // odd, and not a multiple of TF's groups of four
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    CHECK(keras_random_normal(n, 0.0, 1.0, 11, rng, 1) ==
          keras_random_normal(n, 0.0, 1.0, 11, rng, 4));
    CHECK(keras_truncated_normal(n, 0.0, 1.0, 11, rng, 1) ==
          keras_truncated_normal(n, 0.0, 1.0, 11, rng, 4));
    CHECK(keras_random_uniform(n, -1.0, 1.0, 11, rng, 1) ==
          keras_random_uniform(n, -1.0, 1.0, 11, rng, 4));
  }
}

TEST_CASE("a shorter draw is a different layout, not a prefix, as in JAX") {
  // JAX's halves depend on n, so the first values of a (4,) and a (6,) draw differ.
  CHECK(keras_random_normal(4, 0.0, 1.0, 42, RngKind::jax)[1] !=
        keras_random_normal(6, 0.0, 1.0, 42, RngKind::jax)[1]);
  // TF's groups of four do not depend on n: a shorter draw is a prefix.
  CHECK(keras_random_normal(4, 0.0, 1.0, 42, RngKind::tf)[1] ==
        keras_random_normal(6, 0.0, 1.0, 42, RngKind::tf)[1]);
}

TEST_CASE("jax draws match JAX's own regression values (tests/random_test.py)") {
  // JAX's test keys are PRNGKey(s) = [0, s], with s = zlib.adler32(name + "threefry2x32");
  // its expected values are printed to 6 decimals (bits exactly).
  auto prng_key = [](uint32_t s) { return JaxKey{0u, s}; };
  const uint32_t expected_bits[] = {1978747883u, 4134381225u, 3628107870u, 689687174u, 2788938207u};
  for (int i = 0; i < 5; ++i)
    CHECK(jax_random_bits(prng_key(942802475u), 5, i) == expected_bits[i]);
  // testRngRandomBits: PRNGKey(1701), an odd count of three.
  const uint32_t expected_1701[] = {56197195u, 4200222568u, 961309823u};
  for (int i = 0; i < 3; ++i) CHECK(jax_random_bits(prng_key(1701u), 3, i) == expected_1701[i]);

  float out[5];
  jax_uniform(prng_key(1338574713u), 5, 0.0f, 1.0f, out, 1);
  const double uniform[] = {0.298671, 0.073213, 0.873356, 0.260549, 0.412797};
  for (int i = 0; i < 5; ++i) CHECK(out[i] == Approx(uniform[i]).margin(1e-6));
  jax_normal(prng_key(1193674498u), 5, out, 1);
  const double normal[] = {-1.173234, -1.511662, 0.070593, -0.099764, 1.052845};
  for (int i = 0; i < 5; ++i) CHECK(out[i] == Approx(normal[i]).margin(1e-6));
  jax_truncated_normal(prng_key(2846034731u), 5, 0.0f, 2.0f, out, 1);
  const double truncated[] = {0.582807, 1.709771, 0.159513, 0.861376, 0.36148};
  for (int i = 0; i < 5; ++i) CHECK(out[i] == Approx(truncated[i]).margin(1e-6));
}
