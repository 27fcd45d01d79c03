// Adam and SGD objects over several steps against values computed here in double precision from
// Keras 3's formulas, and an exact continue after export/import of their state.
#include <catch2/catch.hpp>
#include <cmath>

#include "backend/backend.h"
#include "core/error.h"
#include "optim/optimizer.h"
#include "optimizer_fixture.h"

namespace repro {

using Fixture = test::OptimizerFixture;

TEST_CASE("adam over three steps follows Keras 3's update with t counted from 1", "[optim]") {
  Fixture f;
  OptimizerConfig config;  // adam, lr 1e-3, 0.9, 0.999, 1e-7
  config.learning_rate = 0.01;
  auto adam = make_optimizer(config, *f.backend, {"p"}, {3});
  std::vector<double> w = {0.5, -1.0, 2.0}, m(3, 0), v(3, 0);
  f.set(f.w, {0.5f, -1.0f, 2.0f});
  const std::vector<std::vector<float>> grads = {
      {0.1f, -0.2f, 0.0f}, {0.3f, 0.1f, -0.05f}, {-0.2f, 0.4f, 1.5f}};
  for (int t = 1; t <= 3; ++t) {
    f.set(f.g, grads[t - 1]);
    adam->step({f.w}, {f.g});
    const double alpha = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      m[i] += (g - m[i]) * (1 - 0.9);
      v[i] += (g * g - v[i]) * (1 - 0.999);
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
    const std::vector<float> got = f.get(f.w);
    for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(w[i]).epsilon(1e-6));
  }
  CHECK(adam->iterations() == 3);
}

TEST_CASE("sgd with momentum and with nesterov follow Keras 3's update", "[optim]") {
  for (bool nesterov : {false, true}) {
    Fixture f;
    OptimizerConfig config;
    config.name = "sgd";
    config.learning_rate = 0.1;
    config.momentum = 0.9;
    config.nesterov = nesterov;
    auto sgd = make_optimizer(config, *f.backend, {"p"}, {3});
    f.set(f.w, {1.0f, 1.0f, 1.0f});
    f.set(f.g, {1.0f, -2.0f, 0.5f});
    std::vector<double> w = {1, 1, 1}, velocity(3, 0);
    const std::vector<double> g = {1.0, -2.0, 0.5};
    for (int t = 0; t < 3; ++t) {
      sgd->step({f.w}, {f.g});
      for (int i = 0; i < 3; ++i) {
        velocity[i] = 0.9 * velocity[i] - 0.1 * g[i];
        w[i] += nesterov ? 0.9 * velocity[i] - 0.1 * g[i] : velocity[i];
      }
    }
    const std::vector<float> got = f.get(f.w);
    for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(w[i]).epsilon(1e-6));
  }
}

TEST_CASE("plain sgd without momentum keeps no state and steps by lr * g", "[optim]") {
  Fixture f;
  OptimizerConfig config;
  config.name = "sgd";
  config.learning_rate = 0.5;
  auto sgd = make_optimizer(config, *f.backend, {"p"}, {3});
  f.set(f.w, {1.0f, 2.0f, 3.0f});
  f.set(f.g, {1.0f, 1.0f, -1.0f});
  sgd->step({f.w}, {f.g});
  CHECK(f.get(f.w) == std::vector<float>{0.5f, 1.5f, 3.5f});
  CHECK(sgd->export_state().empty());
}

TEST_CASE("an optimizer restored from exported state continues bit-identically", "[optim]") {
  for (const char* name : {"adam", "sgd"}) {
    Fixture f;
    OptimizerConfig config;
    config.name = name;
    config.momentum = 0.8;
    auto first = make_optimizer(config, *f.backend, {"p"}, {3});
    f.set(f.w, {0.3f, -0.7f, 1.1f});
    f.set(f.g, {0.2f, -0.1f, 0.4f});
    first->step({f.w}, {f.g});
    first->step({f.w}, {f.g});

    Array w2 = f.backend->alloc(3);
    f.set(w2, f.get(f.w));
    auto second = make_optimizer(config, *f.backend, {"p"}, {3});
    second->import_state(first->export_state(), first->iterations());
    f.set(f.g, {-0.5f, 0.25f, 0.125f});
    first->step({f.w}, {f.g});
    second->step({w2}, {f.g});
    CHECK(f.get(f.w) == f.get(w2));
    CHECK(second->iterations() == 3);
  }
}

TEST_CASE("importing state with a missing slot is refused", "[optim]") {
  Fixture f;
  OptimizerConfig config;
  auto adam = make_optimizer(config, *f.backend, {"p"}, {3});
  CHECK_THROWS_AS(adam->import_state({}, 4), InputError);
}

TEST_CASE("an unknown optimizer name is an input error", "[optim]") {
  Fixture f;
  OptimizerConfig config;
  config.name = "adagrad";
  CHECK_THROWS_AS(make_optimizer(config, *f.backend, {"p"}, {3}), InputError);
}

}  // namespace repro
