// The affine resampling behind the augmentation layers: exact flips and integer shifts, Keras's
// fill modes (reflect is d c b a | a b c d | d c b a), bilinear weights, the backward as the
// exact transpose of the forward, and oneDNN bitwise equal to the reference at 1, 2, 4 threads.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/reference_ops.h"
#include "op_test_util.h"

using namespace repro;

namespace {

AffineGeometry geometry(int n, int c, int h, int w, FillMode fill, Interpolation interpolation) {
  AffineGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.fill = fill, g.interpolation = interpolation;
  return g;
}

std::vector<float> resample(const AffineGeometry& g, const std::vector<float>& t,
                            const std::vector<float>& x) {
  std::vector<float> y(x.size());
  reference::affine_forward(g, t.data(), x.data(), y.data(), 0, g.n);
  return y;
}

}  // namespace

TEST_CASE("a horizontal flip and an integer shift move pixels exactly, filled by the fill mode") {
  const std::vector<float> row = {1, 2, 3, 4};  // one image, one channel, 1 x 4
  const AffineGeometry nearest = geometry(1, 1, 1, 4, FillMode::reflect, Interpolation::nearest);
  CHECK(resample(nearest, {-1, 0, 3, 0, 1, 0}, row) == std::vector<float>{4, 3, 2, 1});
  // Output column x reads input column x - 2 (a translation by +2).
  const std::vector<float> shift = {1, 0, -2, 0, 1, 0};
  CHECK(resample(nearest, shift, row) == std::vector<float>{2, 1, 1, 2});  // reflect
  AffineGeometry g = nearest;
  g.fill = FillMode::wrap;
  CHECK(resample(g, shift, row) == std::vector<float>{3, 4, 1, 2});
  g.fill = FillMode::nearest;
  CHECK(resample(g, shift, row) == std::vector<float>{1, 1, 1, 2});
  g.fill = FillMode::constant;
  g.fill_value = -5;
  CHECK(resample(g, shift, row) == std::vector<float>{-5, -5, 1, 2});
  // Bilinear at integer points equals nearest; half a pixel averages two neighbours.
  g.interpolation = Interpolation::bilinear;
  CHECK(resample(g, shift, row) == std::vector<float>{-5, -5, 1, 2});
  g.fill = FillMode::nearest;
  CHECK(resample(g, {1, 0, 0.5f, 0, 1, 0}, row) == std::vector<float>{1.5f, 2.5f, 3.5f, 4});
}

TEST_CASE("the affine backward is the transpose of the forward for every fill mode") {
  for (FillMode fill : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
    for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
      const AffineGeometry g = geometry(2, 3, 5, 7, fill, interpolation);
      // A zoom out about the centre with a shift, and a translation by fractions of a pixel.
      const std::vector<float> t = {1.3f, 0, -1.1f, 0, 0.8f, 0.45f, 1, 0, 2.3f, 0, 1, -1.7f};
      const size_t size = size_t(g.n) * g.c * g.h * g.w;
      const std::vector<float> x = test::random_tensor(size, 41),
                               dy = test::random_tensor(size, 42);
      std::vector<float> y(size), dx(size);
      reference::affine_forward(g, t.data(), x.data(), y.data(), 0, g.n);
      reference::affine_backward(g, t.data(), dy.data(), dx.data(), 0, g.n);
      double forward_dot = 0, backward_dot = 0;
      for (size_t i = 0; i < size; i++) {
        forward_dot += double(y[i]) * dy[i];
        backward_dot += double(x[i]) * dx[i];
      }
      INFO("fill " << int(fill) << " interpolation " << int(interpolation));
      CHECK(forward_dot == Approx(backward_dot).epsilon(1e-5));
    }
  }
}

TEST_CASE(
    "onednn and portable affine resampling equal the reference bit for bit at 1, 2 and 4 "
    "threads",
    "[onednn][portable]") {
  for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
    const AffineGeometry g = geometry(13, 2, 9, 8, FillMode::reflect, interpolation);
    const size_t size = size_t(g.n) * g.c * g.h * g.w;
    std::vector<float> x = test::random_tensor(size, 51), dy = test::random_tensor(size, 52);
    for (size_t i = 0; i < size; i += 3) x[i] = -0.0f;  // 0 + 1 x -0 is +0
    // Arbitrary transforms (most points outside, through the fill mode), and translations by a
    // fraction of a pixel as the augmentation layers draw them (most points inside).
    std::vector<float> shifts = test::random_tensor(size_t(g.n) * 2, 54, -1.5f, 1.5f);
    std::vector<float> translations;
    for (int b = 0; b < g.n; b++)
      translations.insert(translations.end(), {1.0f, 0.0f, shifts[size_t(b) * 2], 0.0f, 1.0f,
                                               shifts[size_t(b) * 2 + 1]});
    for (const std::vector<float>& t :
         {test::random_tensor(size_t(g.n) * 6, 53, -2.0f, 2.0f), translations}) {
      auto run = [&](Backend& be) {
        Array xa = test::to_backend(be, x), dya = test::to_backend(be, dy);
        Array y = be.alloc(size), dx = be.alloc(size);
        be.affine_forward(g, t.data(), xa.data(), y.data());
        be.affine_backward(g, t.data(), dya.data(), dx.data());
        return std::vector<std::vector<float>>{test::to_host(be, y), test::to_host(be, dx)};
      };
      test::check_onednn_bitwise_at_thread_counts(run, {"portable"});
    }
  }
}
