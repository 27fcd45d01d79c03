// The Keras initializers: fans, the variance each formula promises over 10^6 draws (on a
// non-square shape so fan_in, fan_out and fan_avg give different answers), seeds, Orthogonal's
// orthonormality, and thread-count independence.
#include <catch2/catch.hpp>

#include "support/moments.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "init/initializers.h"

using namespace repro;

namespace {

using repro_test::Moments;
using repro_test::moments;

InitializerSpec named(const std::string& name) {
  InitializerSpec spec;
  spec.name = name;
  return spec;
}

// Max |Q^T Q - I| over the columns of q (rows, cols) when rows >= cols, else over its rows.
double orthonormality_error(const std::vector<float>& q, int64_t rows, int64_t cols) {
  const bool by_columns = rows >= cols;
  const int64_t k = by_columns ? cols : rows, len = by_columns ? rows : cols;
  auto at = [&](int64_t vec, int64_t i) {
    return static_cast<double>(by_columns ? q[i * cols + vec] : q[vec * cols + i]);
  };
  double worst = 0;
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double dot = 0;
      for (int64_t i = 0; i < len; ++i) dot += at(a, i) * at(b, i);
      worst = std::max(worst, std::fabs(dot - (a == b ? 1.0 : 0.0)));
    }
  return worst;
}

const std::vector<int64_t> kShape = {500, 2000};  // 10^6 values; fan_in 500, fan_out 2000

}  // namespace

TEST_CASE("compute_fans follows Keras for vectors, dense and conv kernels") {
  CHECK(compute_fans({}).fan_in == 1);
  CHECK(compute_fans({7}).fan_in == 7);
  CHECK(compute_fans({7}).fan_out == 7);
  CHECK(compute_fans({784, 64}).fan_in == 784);
  CHECK(compute_fans({784, 64}).fan_out == 64);
  const Fans conv = compute_fans({3, 3, 32, 64});  // (kh, kw, in, out)
  CHECK(conv.fan_in == 3 * 3 * 32);
  CHECK(conv.fan_out == 3 * 3 * 64);
}

TEST_CASE("initializer names list the recipe's 11 first and reject others") {
  CHECK(initializer_names().size() == 14);
  CHECK(initializer_names()[0] == "random_normal");
  CHECK(initializer_names()[10] == "orthogonal");
  CHECK(is_known_initializer("he_uniform"));
  CHECK_FALSE(is_known_initializer("HeUniform"));
  CHECK_THROWS_AS(initialize(named("xavier"), {2, 2}, 1, RngKind::jax), InputError);
}

TEST_CASE("each variance-scaling initializer has the variance its formula promises") {
  struct Case {
    const char* name;
    double var;
    bool uniform;
  };
  const double fan_in = 500, fan_avg = 1250;
  const Case cases[] = {
      {"glorot_normal", 1 / fan_avg, false},  {"glorot_uniform", 1 / fan_avg, true},
      {"he_normal", 2 / fan_in, false},       {"he_uniform", 2 / fan_in, true},
      {"lecun_normal", 1 / fan_in, false},    {"lecun_uniform", 1 / fan_in, true},
      {"variance_scaling", 1 / fan_in, false}};
  for (RngKind rng : {RngKind::jax, RngKind::tf})
    for (const Case& c : cases) {
      INFO(c.name << (rng == RngKind::jax ? " jax" : " tf"));
      const Moments m = moments(initialize(named(c.name), kShape, 3, rng));
      CHECK(m.var == Approx(c.var).epsilon(0.01));
      CHECK(std::fabs(m.mean) < 0.01 * std::sqrt(c.var));
      if (c.uniform) {
        const double limit = std::sqrt(3 * c.var);
        CHECK(m.min >= -limit);
        CHECK(m.max < limit);
        CHECK(m.max > 0.999 * limit);
      } else {
        // truncated at two standard deviations of the untruncated normal
        const double bound = 2 * std::sqrt(c.var) / 0.87962566103423978;
        CHECK(m.max < bound * (1 + 1e-6));
        CHECK(m.max > 0.99 * bound);
      }
    }
}

TEST_CASE("variance_scaling honours mode and distribution") {
  InitializerSpec spec = named("variance_scaling");
  spec.scale = 3.0;
  spec.mode = "fan_out";
  spec.distribution = "untruncated_normal";
  const Moments m = moments(initialize(spec, kShape, 5, RngKind::jax));
  CHECK(m.var == Approx(3.0 / 2000).epsilon(0.01));
  CHECK(m.max > 4 * std::sqrt(3.0 / 2000));  // untruncated: tails beyond two stddev
  spec.mode = "fan_sideways";
  CHECK_THROWS_AS(initialize(spec, kShape, 5, RngKind::jax), InputError);
}

TEST_CASE("random_normal, random_uniform and truncated_normal use Keras's defaults") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const Moments n = moments(initialize(named("random_normal"), kShape, 9, rng));
    CHECK(n.var == Approx(0.05 * 0.05).epsilon(0.01));
    const Moments u = moments(initialize(named("random_uniform"), kShape, 9, rng));
    CHECK(u.min >= -0.05f);
    CHECK(u.max < 0.05f);
    CHECK(u.var == Approx(0.1 * 0.1 / 12).epsilon(0.01));
    const Moments t = moments(initialize(named("truncated_normal"), kShape, 9, rng));
    CHECK(t.max < 0.1f);
    CHECK(t.min > -0.1f);
    CHECK(t.var == Approx(0.05 * 0.05 * 0.87962566103423978 * 0.87962566103423978).epsilon(0.01));
  }
}

TEST_CASE("zeros, ones and constant fill the tensor") {
  InitializerSpec c = named("constant");
  c.value = 0.25;
  CHECK(initialize(named("zeros"), {2, 3}, 0, RngKind::jax) == std::vector<float>(6, 0.0f));
  CHECK(initialize(named("ones"), {2, 3}, 0, RngKind::tf) == std::vector<float>(6, 1.0f));
  CHECK(initialize(c, {4}, 0, RngKind::jax) == std::vector<float>(4, 0.25f));
}

TEST_CASE("a seed gives the same values on every call and different seeds differ") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const auto a = initialize(named("glorot_normal"), {3, 5}, 42, rng);
    CHECK(a == initialize(named("glorot_normal"), {3, 5}, 42, rng));
    CHECK(a != initialize(named("glorot_normal"), {3, 5}, 43, rng));
  }
}

TEST_CASE("orthogonal gives orthonormal columns or rows for square, tall and wide shapes") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    CHECK(orthonormality_error(initialize(named("orthogonal"), {64, 64}, 1, rng), 64, 64) < 1e-5);
    CHECK(orthonormality_error(initialize(named("orthogonal"), {200, 30}, 1, rng), 200, 30) < 1e-5);
    CHECK(orthonormality_error(initialize(named("orthogonal"), {30, 200}, 1, rng), 30, 200) < 1e-5);
    // a conv kernel (3, 3, 4, 8) is a (36, 8) matrix
    CHECK(orthonormality_error(initialize(named("orthogonal"), {3, 3, 4, 8}, 1, rng), 36, 8) <
          1e-5);
  }
  InitializerSpec g = named("orthogonal");
  g.gain = 2.0;
  const auto q = initialize(g, {16, 16}, 1, RngKind::jax);
  double norm2 = 0;
  for (int i = 0; i < 16; ++i) norm2 += double(q[i * 16]) * q[i * 16];
  CHECK(norm2 == Approx(4.0).epsilon(1e-5));
  CHECK_THROWS_AS(initialize(named("orthogonal"), {5}, 1, RngKind::jax), InputError);
}

TEST_CASE("orthogonal at (1, 1) is the sign of the normal draw") {
  for (RngKind rng : {RngKind::jax, RngKind::tf}) {
    const float draw = keras_random_normal(1, 0.0, 1.0, 42, rng)[0];
    CHECK(initialize(named("orthogonal"), {1, 1}, 42, rng)[0] == (draw > 0 ? 1.0f : -1.0f));
  }
}

TEST_CASE("a large initializer is bit-identical with 1 and 4 threads") {
  const std::vector<int64_t> shape = {3, 3, 256, 512};  // 1.2 M values
  for (RngKind rng : {RngKind::jax, RngKind::tf})
    for (const char* name : {"he_normal", "glorot_uniform"})
      CHECK(initialize(named(name), shape, 8, rng, 1) == initialize(named(name), shape, 8, rng, 4));
}

TEST_CASE("seeds outside the backend's seed type are input errors") {
  CHECK_THROWS_AS(initialize(named("he_normal"), {2, 2}, -1, RngKind::jax), InputError);
  CHECK_THROWS_AS(initialize(named("he_normal"), {2, 2}, 1ll << 31, RngKind::tf), InputError);
  CHECK_NOTHROW(initialize(named("he_normal"), {2, 2}, (1ll << 32) - 1, RngKind::jax));
}

TEST_CASE("seed 42 at shape (1, 1) on tf gives the recipe's published Keras 3 values") {
  // examples/keras_recipes/md/reproducibility_recipes.md on keras.io (Keras 3, TensorFlow).
  const std::pair<const char*, double> published[] = {{"random_normal", 0.000790853810030967},
                                                      {"random_uniform", -0.02175668440759182},
                                                      {"truncated_normal", 0.000790853810030967},
                                                      {"variance_scaling", 0.017981600016355515},
                                                      {"glorot_normal", 0.017981600016355515},
                                                      {"glorot_uniform", -0.7536736726760864},
                                                      {"he_normal", 0.025429822504520416},
                                                      {"he_uniform", -1.065855622291565},
                                                      {"lecun_normal", 0.017981600016355515},
                                                      {"lecun_uniform", -0.7536736726760864},
                                                      {"orthogonal", 1.0}};
  for (const auto& [name, value] : published) {
    INFO(name);
    CHECK(static_cast<double>(initialize(named(name), {1, 1}, 42, RngKind::tf)[0]) == value);
  }
}
