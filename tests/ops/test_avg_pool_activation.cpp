// Average pooling and the element-wise activations: a hand-computed pooling case (same padding
// counts only the cells inside the image, as Keras), finite-difference gradients on the
// reference, and the oneDNN backend bitwise equal to the reference at 1, 2 and 4 threads.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/reference_ops.h"
#include "op_test_util.h"

using namespace repro;

namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double acc = 0;
  for (size_t i = 0; i < a.size(); i++) acc += double(a[i]) * b[i];
  return acc;
}

// Central differences of L = sum(f(x) * r) against the analytic dx, element by element.
template <class Forward, class Backward>
double worst_gradient_error(std::vector<float> x, size_t out_size, Forward forward,
                            Backward backward, float h) {
  const std::vector<float> r = test::random_tensor(out_size, 91);
  std::vector<float> y(out_size), dx(x.size());
  forward(x, y);
  backward(y, r, dx);
  double worst = 0;
  for (size_t i = 0; i < x.size(); i++) {
    const float saved = x[i];
    x[i] = saved + h;
    const float up = x[i];
    forward(x, y);
    const double loss_up = dot(y, r);
    x[i] = saved - h;
    const float down = x[i];
    forward(x, y);
    const double loss_down = dot(y, r);
    x[i] = saved;
    const double numeric = (loss_up - loss_down) / (double(up) - double(down));
    worst = std::max(worst, std::fabs(numeric - dx[i]) / std::max(1.0, std::fabs(numeric)));
  }
  return worst;
}

}  // namespace

TEST_CASE("average pooling with same padding averages only the cells inside the image") {
  // One 3x3 plane, 2x2 windows at stride 2, same padding: output 2x2, the padding at the bottom
  // and right, so the windows hold 4, 2, 2 and 1 cells.
  const PoolGeometry g = test::pool_geometry(1, 1, 3, 3, 2, 2, 2, 2, true);
  REQUIRE(g.oh == 2);
  REQUIRE(g.pad_bottom == 1);
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> y(4);
  reference::avg_pool2d_forward(g, x.data(), y.data());
  CHECK(y == std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f});
  std::vector<float> dx(9);
  reference::avg_pool2d_backward(g, std::vector<float>{4, 2, 2, 1}.data(), dx.data());
  CHECK(dx == std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("activations give Keras's values and their gradients through the output") {
  const std::vector<float> x = {-2.0f, 0.0f, 0.5f};
  std::vector<float> y(3), dx(3);
  reference::activation_forward(ActivationFn::sigmoid, x.data(), y.data(), 0, 3);
  CHECK(y[1] == 0.5f);
  CHECK(y[0] == Approx(1.0 / (1.0 + std::exp(2.0))).epsilon(1e-6));
  reference::activation_forward(ActivationFn::tanh, x.data(), y.data(), 0, 3);
  CHECK(y[2] == Approx(std::tanh(0.5)).epsilon(1e-6));
  reference::activation_forward(ActivationFn::relu, x.data(), y.data(), 0, 3);
  CHECK(y == std::vector<float>{0.0f, 0.0f, 0.5f});
  const std::vector<float> ones = {1, 1, 1};
  reference::activation_backward(ActivationFn::relu, nullptr, y.data(), ones.data(), dx.data(), 0,
                                 3);
  CHECK(dx == std::vector<float>{0.0f, 0.0f, 1.0f});
}

TEST_CASE("average pooling and activation gradients match finite differences") {
  for (bool same : {false, true}) {
    for (int stride : {1, 2}) {
      const PoolGeometry g = test::pool_geometry(2, 3, 5, 6, 3, 2, stride, stride, same);
      const size_t out = size_t(g.n) * g.c * g.oh * g.ow;
      const double worst = worst_gradient_error(
          test::random_tensor(size_t(g.n) * g.c * g.h * g.w, 7), out,
          [&](const std::vector<float>& x, std::vector<float>& y) {
            reference::avg_pool2d_forward(g, x.data(), y.data());
          },
          [&](const std::vector<float>&, const std::vector<float>& dy, std::vector<float>& dx) {
            reference::avg_pool2d_backward(g, dy.data(), dx.data());
          },
          0.05f);
      INFO("same " << same << " stride " << stride);
      CHECK(worst <= 1e-3);
    }
  }
  for (ActivationFn f : {ActivationFn::sigmoid, ActivationFn::tanh}) {
    const size_t n = 64;
    const double worst = worst_gradient_error(
        test::random_tensor(n, 8, -3.0f, 3.0f), n,
        [&](const std::vector<float>& x, std::vector<float>& y) {
          reference::activation_forward(f, x.data(), y.data(), 0, n);
        },
        [&](const std::vector<float>& y, const std::vector<float>& dy, std::vector<float>& dx) {
          reference::activation_backward(f, nullptr, y.data(), dy.data(), dx.data(), 0, n);
        },
        1e-2f);
    CHECK(worst <= 2e-3);
  }
}

// Average pooling forward and backward, then each activation forward and backward, as bits.
// own_forward false: the gradients from given outputs (x stands in for y), for a backend whose
// forward differs from the reference's (portable's sigmoid, tanh and elu use portable_math).
static std::vector<std::vector<float>> pool_and_activations(Backend& be, const PoolGeometry& g,
                                                            const std::vector<float>& x,
                                                            const std::vector<float>& dy,
                                                            bool own_forward) {
  const size_t in = x.size(), out = dy.size();
  Array xa = test::to_backend(be, x), dya = test::to_backend(be, dy);
  Array y = be.alloc(out), dx = be.alloc(in), act = be.alloc(in), dact = be.alloc(in);
  be.avg_pool2d_forward(g, xa.data(), y.data());
  be.avg_pool2d_backward(g, dya.data(), dx.data());
  std::vector<std::vector<float>> results = {test::to_host(be, y), test::to_host(be, dx)};
  for (ActivationFn f : {ActivationFn::relu, ActivationFn::sigmoid, ActivationFn::tanh,
                         ActivationFn::elu, ActivationFn::leaky_relu, ActivationFn::hard_sigmoid}) {
    if (own_forward) {
      be.activation_forward(f, xa.data(), act.data(), in);
      results.push_back(test::to_host(be, act));
    }
    be.activation_backward(f, xa.data(), own_forward ? act.data() : xa.data(), xa.data(),
                           dact.data(), in);
    results.push_back(test::to_host(be, dact));
  }
  return results;
}

TEST_CASE("onednn and portable average pooling and activations equal the reference bit for bit",
          "[onednn][portable]") {
  // Same padding with overlapping windows; windows that tile the input (2x2 and 3x3, with rows
  // and columns left over past the last window).
  for (const PoolGeometry& g : {test::pool_geometry(11, 5, 9, 7, 3, 3, 2, 2, true),
                                test::pool_geometry(11, 5, 9, 7, 2, 2, 2, 2, false),
                                test::pool_geometry(3, 4, 10, 11, 3, 3, 3, 3, false)}) {
    INFO("window " << g.r << ", stride " << g.stride_h << ", padded " << g.pad_top + g.pad_bottom);
    const size_t in = size_t(g.n) * g.c * g.h * g.w, out = size_t(g.n) * g.c * g.oh * g.ow;
    std::vector<float> x = test::random_tensor(in, 3, -1.5f, 1.5f),
                       dy = test::random_tensor(out, 4);
    for (size_t i = 0; i < out; i += 7) dy[i] = -0.0f;  // a share of -0 lands as +0
    for (size_t i = 0; i < in; i += 5) x[i] = i % 2 ? 0.0f : -0.0f;
    test::check_onednn_bitwise_at_thread_counts(
        [&](Backend& be) { return pool_and_activations(be, g, x, dy, true); });
    auto reference = make_backend("reference", {});
    const auto want = pool_and_activations(*reference, g, x, dy, false);
    for (int threads : {1, 2, 4}) {
      auto portable = make_backend("portable", BackendOptions{threads, true});
      INFO("portable, " << threads << " threads");
      CHECK(test::same_bits(pool_and_activations(*portable, g, x, dy, false), want));
    }
  }
}
