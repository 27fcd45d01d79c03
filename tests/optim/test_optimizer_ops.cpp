// Adam and SGD steps against values worked out by hand from the Keras 3 formulas, on the
// reference backend and (same code path) the onednn backend.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backend/reference/reference_ops.h"

using namespace repro;

TEST_CASE("Adam's first two steps match the Keras 3 formula worked by hand", "[ops][optim]") {
  std::vector<float> w = {1.0f, -2.0f}, g = {0.5f, 0.0f}, m = {0, 0}, v = {0, 0};
  AdamParams p;  // lr 0.001, beta 0.9 / 0.999, eps 1e-7
  p.step = 1;
  reference::adam_update(w.data(), g.data(), m.data(), v.data(), 2, p);
  // m = 0.05, v = 0.00025, alpha = 0.001 * sqrt(0.001) / 0.1,
  // w = 1 - alpha * m / (sqrt(v) + 1e-7)
  double alpha1 = 0.001 * std::sqrt(1 - 0.999) / (1 - 0.9);
  double w1 = 1.0 - alpha1 * 0.05 / (std::sqrt(0.00025) + 1e-7);
  CHECK(m[0] == Approx(0.05).epsilon(1e-7));
  CHECK(v[0] == Approx(0.00025).epsilon(1e-6));
  CHECK(w[0] == Approx(w1).epsilon(1e-7));
  CHECK(w[1] == -2.0f);  // zero gradient, zero moments: no move

  g = {-0.25f, 0.0f};
  p.step = 2;
  reference::adam_update(w.data(), g.data(), m.data(), v.data(), 2, p);
  double m2 = 0.05 + (-0.25 - 0.05) * 0.1;           // 0.02
  double v2 = 0.00025 + (0.0625 - 0.00025) * 0.001;  // 0.00031225
  double alpha2 = 0.001 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
  double w2 = w1 - alpha2 * m2 / (std::sqrt(v2) + 1e-7);
  CHECK(m[0] == Approx(m2).epsilon(1e-6));
  CHECK(v[0] == Approx(v2).epsilon(1e-6));
  CHECK(w[0] == Approx(w2).epsilon(1e-7));
}

TEST_CASE("Adam's 1 - beta follows Keras's double arithmetic, not float's", "[ops][optim]") {
  // With g = 1 and m = 0 the first moment becomes exactly float32(1 - 0.9) = 0.1f in Keras;
  // 1 - 0.9f would give 0.100000024f.
  std::vector<float> w = {0}, g = {1}, m = {0}, v = {0};
  AdamParams p;
  reference::adam_update(w.data(), g.data(), m.data(), v.data(), 1, p);
  CHECK(m[0] == 0.1f);
  CHECK(v[0] == float(1.0 - 0.999));
}

TEST_CASE("SGD plain, momentum and nesterov steps by hand", "[ops][optim]") {
  SgdParams plain{0.1f, 0.0f, false};
  std::vector<float> w = {1}, g = {0.5f};
  reference::sgd_update(w.data(), g.data(), nullptr, 1, plain);
  CHECK(w[0] == Approx(0.95).epsilon(1e-7));

  SgdParams momentum{0.1f, 0.9f, false};
  std::vector<float> vel = {0};
  w = {1};
  reference::sgd_update(w.data(), g.data(), vel.data(), 1, momentum);
  CHECK(vel[0] == Approx(-0.05).epsilon(1e-7));
  CHECK(w[0] == Approx(0.95).epsilon(1e-7));
  reference::sgd_update(w.data(), g.data(), vel.data(), 1, momentum);
  CHECK(vel[0] == Approx(-0.095).epsilon(1e-6));  // 0.9 * -0.05 - 0.05
  CHECK(w[0] == Approx(0.855).epsilon(1e-6));

  SgdParams nesterov{0.1f, 0.9f, true};
  vel = {0};
  w = {1};
  reference::sgd_update(w.data(), g.data(), vel.data(), 1, nesterov);
  CHECK(w[0] == Approx(0.905).epsilon(1e-6));  // 1 + 0.9 * -0.05 - 0.05
  reference::sgd_update(w.data(), g.data(), vel.data(), 1, nesterov);
  CHECK(vel[0] == Approx(-0.095).epsilon(1e-6));
  CHECK(w[0] == Approx(0.7695).epsilon(1e-6));  // 0.905 + 0.9 * -0.095 - 0.05
}
