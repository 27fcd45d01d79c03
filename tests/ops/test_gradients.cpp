// Finite-difference checks of every reference backward kernel and of the loss gradient:
// L = sum(y * r) for a fixed random r, central differences on each input and parameter.
// Linear ops are probed with a large step (exact up to rounding); relu cases require every
// pre-activation to lie farther from zero than a probe can move it, so no kink is crossed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "backend/reference/reference_ops.h"
#include "op_test_util.h"

using namespace repro;

namespace {

// Central difference of loss() with respect to one float, using the step actually stored.
double numeric_derivative(const std::function<double()>& loss, float& value, float h) {
  float saved = value;
  value = saved + h;
  float up = value;
  double loss_up = loss();
  value = saved - h;
  float down = value;
  double loss_down = loss();
  value = saved;
  return (loss_up - loss_down) / (double(up) - double(down));
}

// Every element of `param` (analytic gradient `grad`) within tolerance of its finite difference.
void check_gradient(const char* what, const std::function<double()>& loss,
                    std::vector<float>& param, const std::vector<float>& grad, float h,
                    double tolerance = 2e-3) {
  double worst = 0;
  for (size_t i = 0; i < param.size(); i++) {
    double numeric = numeric_derivative(loss, param[i], h);
    worst = std::max(worst, std::fabs(numeric - grad[i]) / std::max(1.0, std::fabs(numeric)));
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst <= tolerance);
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double acc = 0;
  for (size_t i = 0; i < a.size(); i++) acc += double(a[i]) * b[i];
  return acc;
}

void check_conv(const ConvGeometry& g, uint32_t seed) {
  std::vector<float> x = test::random_tensor(test::input_size(g), seed);
  std::vector<float> w = test::random_tensor(test::weight_size(g), seed + 1);
  std::vector<float> b = test::random_tensor(g.k, seed + 2);
  std::vector<float> r = test::random_tensor(test::output_size(g), seed + 3);
  std::vector<float> y(test::output_size(g));
  float h = 0.05f;
  if (g.relu) {
    // A probe of h moves a pre-activation by at most h (all values lie in [-1, 1)), so none
    // may lie within 2h of the kink.
    ConvGeometry linear = g;
    linear.relu = false;
    reference::conv2d_forward(linear, x.data(), w.data(), b.data(), y.data());
    double nearest = 1e9;
    for (float v : y) nearest = std::min(nearest, double(std::fabs(v)));
    h = 1e-3f;
    REQUIRE(nearest > 2e-3);
  }
  auto loss = [&] {
    reference::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
    return dot(y, r);
  };
  loss();
  std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
  reference::conv2d_backward(g, x.data(), w.data(), y.data(), r.data(), dx.data(), dw.data(),
                             db.data());
  check_gradient("conv dx", loss, x, dx, h);
  check_gradient("conv dw", loss, w, dw, h);
  check_gradient("conv db", loss, b, db, h);
}

}  // namespace

TEST_CASE("conv2d gradients match finite differences", "[ops][gradient]") {
  SECTION("valid, stride 1") {
    check_conv(test::conv_geometry(2, 2, 5, 4, 3, 3, 2, 1, 1, false, true, false), 11);
  }
  SECTION("same, stride 2, asymmetric pads") {
    check_conv(test::conv_geometry(2, 3, 6, 5, 2, 3, 3, 2, 2, true, true, false), 21);
  }
  SECTION("no bias, non-square stride") {
    check_conv(test::conv_geometry(1, 2, 7, 5, 2, 2, 3, 2, 1, false, false, false), 31);
  }
  SECTION("relu") {
    // Seed chosen so that no pre-activation lies within 2e-3 of zero (REQUIREd above).
    check_conv(test::conv_geometry(1, 1, 4, 4, 2, 2, 2, 1, 1, false, true, true), 47);
  }
}

TEST_CASE("dense gradients match finite differences", "[ops][gradient]") {
  for (bool relu : {false, true}) {
    DenseGeometry g{3, 5, 4, true, relu};
    std::vector<float> x = test::random_tensor(15, 101), w = test::random_tensor(20, 102);
    std::vector<float> b = test::random_tensor(4, 103), r = test::random_tensor(12, 104);
    std::vector<float> y(12);
    float h = 0.05f;
    if (relu) {
      reference::dense_forward(DenseGeometry{3, 5, 4, true, false}, x.data(), w.data(), b.data(),
                               y.data());
      double nearest = 1e9;
      for (float v : y) nearest = std::min(nearest, double(std::fabs(v)));
      REQUIRE(nearest > 2e-3);
      h = 1e-3f;
    }
    auto loss = [&] {
      reference::dense_forward(g, x.data(), w.data(), b.data(), y.data());
      return dot(y, r);
    };
    loss();
    std::vector<float> dx(15), dw(20), db(4);
    reference::dense_backward(g, x.data(), w.data(), y.data(), r.data(), dx.data(), dw.data(),
                              db.data());
    check_gradient("dense dx", loss, x, dx, h);
    check_gradient("dense dw", loss, w, dw, h);
    check_gradient("dense db", loss, b, db, h);
  }
}

TEST_CASE("max pool gradient matches finite differences", "[ops][gradient]") {
  for (bool same : {false, true}) {
    PoolGeometry g = test::pool_geometry(2, 2, 5, 5, 3, 3, 2, 2, same);
    size_t nx = size_t(g.n) * g.c * g.h * g.w, ny = size_t(g.n) * g.c * g.oh * g.ow;
    // Distinct values 0.01 apart, so a probe of 1e-3 never changes a window's winner.
    std::vector<float> x(nx);
    for (size_t i = 0; i < nx; i++) x[i] = float((i * 37) % nx) * 0.01f;
    std::vector<float> r = test::random_tensor(ny, 201), y(ny);
    std::vector<int32_t> argmax(ny);
    auto loss = [&] {
      reference::max_pool2d_forward(g, x.data(), y.data(), argmax.data());
      return dot(y, r);
    };
    loss();
    std::vector<float> dx(nx);
    reference::max_pool2d_backward(g, r.data(), argmax.data(), dx.data());
    check_gradient("max pool dx", loss, x, dx, 1e-3f);
  }
}

TEST_CASE("global average pool, transposes and dropout gradients match finite differences",
          "[ops][gradient]") {
  const int n = 2, c = 3, hw = 4;
  std::vector<float> x = test::random_tensor(n * c * hw, 301);
  {
    std::vector<float> r = test::random_tensor(n * c, 302), y(n * c), dx(x.size());
    auto loss = [&] {
      reference::global_avg_pool_forward(x.data(), y.data(), n, c, hw);
      return dot(y, r);
    };
    reference::global_avg_pool_backward(r.data(), dx.data(), n, c, hw);
    check_gradient("gap dx", loss, x, dx, 0.05f);
  }
  {
    std::vector<float> r = test::random_tensor(x.size(), 303), y(x.size()), dx(x.size());
    auto loss = [&] {
      reference::nchw_to_nhwc(x.data(), y.data(), n, c, hw);
      return dot(y, r);
    };
    reference::nhwc_to_nchw(r.data(), dx.data(), n, c, hw);  // the adjoint of the transpose
    check_gradient("transpose dx", loss, x, dx, 0.05f);
  }
  {
    StreamKey key = derive_key(7, Purpose::dropout, 1, 0);
    std::vector<float> r = test::random_tensor(x.size(), 304), y(x.size()), dx(x.size());
    auto loss = [&] {
      reference::dropout_forward(x.data(), y.data(), 0, x.size(), key, 0.3f);
      return dot(y, r);
    };
    reference::dropout_backward(r.data(), dx.data(), 0, x.size(), key, 0.3f);
    check_gradient("dropout dx", loss, x, dx, 0.05f);
  }
}

TEST_CASE("softmax cross-entropy gradient matches finite differences of the loss",
          "[ops][gradient]") {
  const int n = 4, k = 5;
  std::vector<float> logits = test::random_tensor(n * k, 401, -3.0f, 3.0f);
  std::vector<int32_t> labels = {0, 4, 2, 2};
  std::vector<float> dlogits(n * k);
  float scale = 1.0f / n;
  reference::softmax_cross_entropy(logits.data(), labels.data(), n, k, dlogits.data(), scale);
  auto loss = [&] {
    return reference::softmax_cross_entropy(logits.data(), labels.data(), n, k, nullptr, 1).loss *
           scale;
  };
  check_gradient("softmax cross-entropy dlogits", loss, logits, dlogits, 1e-2f, 1e-4);
}
