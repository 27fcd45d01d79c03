// Batch normalization: the batch statistics and Keras's moving-statistics update worked by hand,
// inference from the moving statistics, finite-difference gradients on the reference, and the
// oneDNN backend bitwise equal to the reference at 1, 2 and 4 threads.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/reference_ops.h"
#include "op_test_util.h"

using namespace repro;

namespace {

BatchNormGeometry geometry(int n, int c, int hw) {
  BatchNormGeometry g;
  g.n = n, g.c = c, g.hw = hw;
  g.momentum = 0.99f;
  g.one_minus_momentum = float(1.0 - 0.99);
  return g;
}

}  // namespace

TEST_CASE("batch norm training normalizes by the batch and moves the statistics as Keras does") {
  // Two images, one channel of two positions: values 1, 3, 5, 7 -> mean 4, biased variance 5.
  const BatchNormGeometry g = geometry(2, 1, 2);
  const std::vector<float> x = {1, 3, 5, 7}, gamma = {2}, beta = {0.5f};
  std::vector<float> moving_mean = {1}, moving_variance = {2}, mean(1), inv_std(1), y(4);
  reference::batch_norm_forward(g, true, x.data(), gamma.data(), beta.data(), moving_mean.data(),
                                moving_variance.data(), mean.data(), inv_std.data(), y.data(), 0,
                                1);
  CHECK(mean[0] == 4.0f);
  CHECK(inv_std[0] == Approx(1.0 / std::sqrt(5.001)).epsilon(1e-6));
  // Keras: moving = moving * momentum + batch * (1 - momentum).
  CHECK(moving_mean[0] == Approx(1 * 0.99 + 4 * 0.01).epsilon(1e-6));
  CHECK(moving_variance[0] == Approx(2 * 0.99 + 5 * 0.01).epsilon(1e-6));
  for (int i = 0; i < 4; i++)
    CHECK(y[i] == Approx((x[i] - 4.0) / std::sqrt(5.001) * 2 + 0.5).epsilon(1e-6));

  // Inference reads the moving statistics and leaves them as they are.
  const std::vector<float> moved_mean = moving_mean, moved_variance = moving_variance;
  reference::batch_norm_forward(g, false, x.data(), gamma.data(), beta.data(), moving_mean.data(),
                                moving_variance.data(), mean.data(), inv_std.data(), y.data(), 0,
                                1);
  CHECK(moving_mean == moved_mean);
  CHECK(moving_variance == moved_variance);
  CHECK(y[0] ==
        Approx((1 - moved_mean[0]) / std::sqrt(moved_variance[0] + 0.001) * 2 + 0.5).epsilon(1e-6));
}

TEST_CASE("batch norm gradients match finite differences of the training forward") {
  const BatchNormGeometry g = geometry(11, 3, 4);  // 11 images: a full chunk and a partial one
  const size_t size = size_t(g.n) * g.c * g.hw;
  std::vector<float> x = test::random_tensor(size, 21),
                     gamma = test::random_tensor(3, 22, 0.5f, 1.5f);
  std::vector<float> beta = test::random_tensor(3, 23);
  const std::vector<float> r = test::random_tensor(size, 24);
  std::vector<float> mm(3, 0.0f), mv(3, 1.0f), mean(3), inv_std(3), y(size);
  auto loss = [&] {
    reference::batch_norm_forward(g, true, x.data(), gamma.data(), beta.data(), mm.data(),
                                  mv.data(), mean.data(), inv_std.data(), y.data(), 0, g.c);
    double acc = 0;
    for (size_t i = 0; i < size; i++) acc += double(y[i]) * r[i];
    return acc;
  };
  loss();
  std::vector<float> dx(size), dgamma(3), dbeta(3);
  reference::batch_norm_backward(g, x.data(), gamma.data(), mean.data(), inv_std.data(), r.data(),
                                 dx.data(), dgamma.data(), dbeta.data(), 0, g.c);
  auto check = [&](const char* what, std::vector<float>& values, const std::vector<float>& grad) {
    double worst = 0;
    for (size_t i = 0; i < values.size(); i++) {
      const float saved = values[i], h = 1e-2f;
      values[i] = saved + h;
      const float up = values[i];
      const double plus = loss();
      values[i] = saved - h;
      const float down = values[i];
      const double minus = loss();
      values[i] = saved;
      const double numeric = (plus - minus) / (double(up) - double(down));
      worst = std::max(worst, std::fabs(numeric - grad[i]) / std::max(1.0, std::fabs(numeric)));
    }
    INFO(what << ": worst relative error " << worst);
    CHECK(worst <= 2e-3);
  };
  check("dx", x, dx);
  check("dgamma", gamma, dgamma);
  check("dbeta", beta, dbeta);
}

TEST_CASE("onednn and portable batch norm equal the reference bit for bit at 1, 2 and 4 threads",
          "[onednn][portable]") {
  // 19 images: three chunks, the last short; 67: eight whole chunks side by side, then a short
  // one; 136: two groups of chunks side by side, then one alone.
  for (int n : {19, 67, 136}) {
    const BatchNormGeometry g = geometry(n, 5, 9);
    INFO(n << " images");
    const size_t size = size_t(g.n) * g.c * g.hw;
    const std::vector<float> x = test::random_tensor(size, 31, -2.0f, 3.0f);
    const std::vector<float> dy = test::random_tensor(size, 32);
    const std::vector<float> gamma = test::random_tensor(5, 33), beta = test::random_tensor(5, 34);
    auto run = [&](Backend& be) {
      Array xa = test::to_backend(be, x), dya = test::to_backend(be, dy);
      Array ga = test::to_backend(be, gamma), ba = test::to_backend(be, beta);
      Array mm = be.alloc(5), mv = test::to_backend(be, std::vector<float>(5, 1.0f));
      Array mean = be.alloc(5), inv = be.alloc(5), y = be.alloc(size), dx = be.alloc(size);
      Array dg = be.alloc(5), db = be.alloc(5), y_eval = be.alloc(size);
      be.batch_norm_forward(g, true, xa.data(), ga.data(), ba.data(), mm.data(), mv.data(),
                            mean.data(), inv.data(), y.data());
      be.batch_norm_backward(g, xa.data(), ga.data(), mean.data(), inv.data(), dya.data(),
                             dx.data(), dg.data(), db.data());
      be.batch_norm_forward(g, false, xa.data(), ga.data(), ba.data(), mm.data(), mv.data(),
                            mean.data(), inv.data(), y_eval.data());
      return std::vector<std::vector<float>>{test::to_host(be, y),     test::to_host(be, dx),
                                             test::to_host(be, dg),    test::to_host(be, db),
                                             test::to_host(be, mm),    test::to_host(be, mv),
                                             test::to_host(be, y_eval)};
    };
    test::check_onednn_bitwise_at_thread_counts(run, {"portable"});
  }
}
