// RMSprop, AdamW and the learning-rate schedules against Keras 3's formulas computed here in
// double (and Keras's own docstring example), an exact continue after export/import of their
// state, and the schedule's rate at each step as the optimizer applies it.
#include <catch2/catch.hpp>
#include <cmath>

#include "backend/backend.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optimizer_fixture.h"

namespace repro {
namespace {

using Fixture = test::OptimizerFixture;

const std::vector<std::vector<float>> kGrads = {
    {0.1f, -0.2f, 0.0f}, {0.3f, 0.1f, -0.05f}, {-0.2f, 0.4f, 1.5f}, {0.05f, -0.3f, 0.2f}};

OptimizerConfig rmsprop(double momentum, bool centered) {
  OptimizerConfig config;
  config.name = "rmsprop";
  config.learning_rate = 0.01;
  config.momentum = momentum;
  config.centered = centered;
  return config;
}

}  // namespace

TEST_CASE("rmsprop reproduces Keras's docstring example: 10.0 becomes 9.683772", "[optim]") {
  Fixture f;
  OptimizerConfig config = rmsprop(0.0, false);
  config.learning_rate = 0.1;
  Array w = f.backend->alloc(1), g = f.backend->alloc(1);
  f.set(w, {10.0f});
  f.set(g, {10.0f});  // d(w^2 / 2) / dw = w
  make_optimizer(config, *f.backend, {"p"}, {1})->step({w}, {g});
  CHECK(f.get(w)[0] == Approx(9.683772).epsilon(1e-7));
}

TEST_CASE("rmsprop plain, with momentum and centered follows Keras 3's update", "[optim]") {
  for (double momentum : {0.0, 0.5}) {
    for (bool centered : {false, true}) {
      Fixture f;
      auto opt = make_optimizer(rmsprop(momentum, centered), *f.backend, {"p"}, {3});
      std::vector<double> w = {0.5, -1.0, 2.0}, v(3, 0), m(3, 0), a(3, 0);
      f.set(f.w, {0.5f, -1.0f, 2.0f});
      for (const std::vector<float>& grad : kGrads) {
        f.set(f.g, grad);
        opt->step({f.w}, {f.g});
        for (int i = 0; i < 3; ++i) {
          const double g = grad[i];
          v[i] = 0.9 * v[i] + 0.1 * g * g;
          double denominator = v[i] + 1e-7;
          if (centered) {
            a[i] = 0.9 * a[i] + 0.1 * g;
            denominator = v[i] - a[i] * a[i] + 1e-7;
          }
          const double increment = 0.01 * g / std::sqrt(denominator);
          m[i] = momentum * m[i] + increment;
          w[i] -= momentum > 0 ? m[i] : increment;
        }
      }
      const std::vector<float> got = f.get(f.w);
      INFO("momentum " << momentum << " centered " << centered);
      for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(w[i]).epsilon(2e-5).margin(1e-6));
      // Keras's slot names, in Keras's order.
      const std::vector<OptimizerSlot> slots = opt->export_state();
      CHECK(slots[0].name == "p/velocity");
      CHECK(slots.size() == size_t{1} + (momentum > 0) + centered);
    }
  }
}

TEST_CASE("adamw decays the weights by w * weight_decay * lr before the adam update", "[optim]") {
  Fixture f;
  OptimizerConfig config;
  config.name = "adamw";
  config.learning_rate = 0.01;
  config.weight_decay = 0.1;
  auto opt = make_optimizer(config, *f.backend, {"p"}, {3});
  std::vector<double> w = {0.5, -1.0, 2.0}, m(3, 0), v(3, 0);
  f.set(f.w, {0.5f, -1.0f, 2.0f});
  for (int t = 1; t <= 4; ++t) {
    f.set(f.g, kGrads[t - 1]);
    opt->step({f.w}, {f.g});
    const double alpha = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 3; ++i) {
      const double g = kGrads[t - 1][i];
      w[i] -= w[i] * 0.1 * 0.01;
      m[i] += (g - m[i]) * (1 - 0.9);
      v[i] += (g * g - v[i]) * (1 - 0.999);
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
  }
  const std::vector<float> got = f.get(f.w);
  for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(w[i]).epsilon(1e-6));
  // Even a zero gradient moves a weight under weight decay (Keras decays every variable).
  f.set(f.g, {0.0f, 0.0f, 0.0f});
  const std::vector<float> before = f.get(f.w);
  opt->step({f.w}, {f.g});
  CHECK(f.get(f.w)[2] != before[2]);
}

TEST_CASE("rmsprop and adamw continue bit-identically after export and import of their state",
          "[optim]") {
  for (const std::string name : {"rmsprop", "adamw"}) {
    OptimizerConfig config = rmsprop(0.5, true);
    config.name = name;
    Fixture a, b;
    auto straight = make_optimizer(config, *a.backend, {"p"}, {3});
    auto resumed = make_optimizer(config, *b.backend, {"p"}, {3});
    a.set(a.w, {0.5f, -1.0f, 2.0f});
    for (int t = 0; t < 2; ++t) {
      a.set(a.g, kGrads[t]);
      straight->step({a.w}, {a.g});
    }
    b.set(b.w, a.get(a.w));
    resumed->import_state(straight->export_state(), straight->iterations());
    for (int t = 2; t < 4; ++t) {
      a.set(a.g, kGrads[t]);
      b.set(b.g, kGrads[t]);
      straight->step({a.w}, {a.g});
      resumed->step({b.w}, {b.g});
    }
    INFO(name);
    CHECK(a.get(a.w) == b.get(b.w));
  }
}

TEST_CASE("onednn rmsprop and adamw equal the reference bit for bit", "[optim][onednn]") {
  for (const std::string name : {"rmsprop", "adamw"}) {
    OptimizerConfig config = rmsprop(0.5, true);
    config.name = name;
    Fixture a("reference"), b("onednn");
    auto oa = make_optimizer(config, *a.backend, {"p"}, {3});
    auto ob = make_optimizer(config, *b.backend, {"p"}, {3});
    a.set(a.w, {0.5f, -1.0f, 2.0f});
    b.set(b.w, {0.5f, -1.0f, 2.0f});
    for (const std::vector<float>& grad : kGrads) {
      a.set(a.g, grad);
      b.set(b.g, grad);
      oa->step({a.w}, {a.g});
      ob->step({b.w}, {b.g});
    }
    INFO(name);
    CHECK(a.get(a.w) == b.get(b.w));
  }
}

TEST_CASE("learning-rate schedules give Keras's rates at each iteration", "[optim]") {
  OptimizerConfig config;
  CHECK(learning_rate_at(config, 12345) == 0.001f);

  config.schedule.name = "exponential_decay";
  config.schedule.initial_learning_rate = 0.1;
  config.schedule.decay_steps = 10;
  config.schedule.decay_rate = 0.5;
  CHECK(learning_rate_at(config, 0) == 0.1f);
  CHECK(learning_rate_at(config, 10) == Approx(0.05).epsilon(1e-6));
  CHECK(learning_rate_at(config, 15) == Approx(0.1 * std::pow(0.5, 1.5)).epsilon(1e-6));
  config.schedule.staircase = true;
  CHECK(learning_rate_at(config, 15) == Approx(0.05).epsilon(1e-6));
  CHECK(learning_rate_at(config, 20) == Approx(0.025).epsilon(1e-6));

  config.schedule = ScheduleConfig{};
  config.schedule.name = "cosine_decay";
  config.schedule.initial_learning_rate = 0.002;
  config.schedule.decay_steps = 100;
  config.schedule.alpha = 0.1;
  CHECK(learning_rate_at(config, 0) == 0.002f);
  CHECK(learning_rate_at(config, 50) == Approx(0.002 * (0.9 * 0.5 + 0.1)).epsilon(1e-6));
  CHECK(learning_rate_at(config, 25) ==
        Approx(0.002 * (0.9 * 0.5 * (1 + std::cos(M_PI * 0.25)) + 0.1)).epsilon(1e-6));
  CHECK(learning_rate_at(config, 100) == Approx(0.0002).epsilon(1e-6));
  CHECK(learning_rate_at(config, 1000) == learning_rate_at(config, 100));  // held after decay

  config.schedule = ScheduleConfig{};
  config.schedule.name = "piecewise_constant_decay";
  config.schedule.boundaries = {3, 5};
  config.schedule.values = {1.0, 0.5, 0.1};
  const std::vector<float> expected = {1.0f, 1.0f, 1.0f, 1.0f, 0.5f, 0.5f, 0.1f, 0.1f};
  for (int64_t step = 0; step < 8; ++step) {
    INFO("step " << step);
    CHECK(learning_rate_at(config, step) == expected[step]);  // values[i] while step <= b[i]
  }
}

TEST_CASE("an optimizer applies the schedule's rate at its iteration count before the step",
          "[optim]") {
  Fixture f;
  OptimizerConfig config;
  config.name = "sgd";
  config.schedule.name = "piecewise_constant_decay";
  config.schedule.boundaries = {0};
  config.schedule.values = {1.0, 0.5};
  auto sgd = make_optimizer(config, *f.backend, {"p"}, {3});
  f.set(f.w, {0.0f, 0.0f, 0.0f});
  f.set(f.g, {1.0f, 1.0f, 1.0f});
  CHECK(sgd->learning_rate() == 1.0f);
  sgd->step({f.w}, {f.g});  // iteration 0: rate 1
  CHECK(f.get(f.w)[0] == -1.0f);
  CHECK(sgd->learning_rate() == 0.5f);
  sgd->step({f.w}, {f.g});  // iteration 1: rate 0.5
  CHECK(f.get(f.w)[0] == -1.5f);
}

}  // namespace repro
