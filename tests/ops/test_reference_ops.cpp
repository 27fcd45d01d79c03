// Hand-computed cases for every reference kernel: small enough to check with pencil and paper.
// Gradient checks are in test_gradients.cpp, other backends in test_onednn_vs_reference.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backend/reference/reference_ops.h"
#include "op_test_util.h"

using namespace repro;
using Catch::Matchers::Equals;

TEST_CASE("reference conv2d forward and backward on a 3x3 image by hand", "[ops][reference]") {
  ConvGeometry g = test::conv_geometry(1, 1, 3, 3, 1, 2, 2, 1, 1, false, true, false);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // (1, 1, 3, 3)
  std::vector<float> w = {0, 1, 2, 0};                 // (1, 1, 2, 2)
  std::vector<float> b = {0.5f};
  std::vector<float> y(4);
  reference::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
  // y[i][j] = x[i][j+1] + 2 x[i+1][j] + 0.5
  CHECK_THAT(y, Equals(std::vector<float>{10.5f, 13.5f, 19.5f, 22.5f}));

  std::vector<float> dy = {1, 1, 1, 1}, dx(9), dw(4), db(1);
  reference::conv2d_backward(g, x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(),
                             db.data());
  CHECK_THAT(dw, Equals(std::vector<float>{12, 16, 24, 28}));  // sums of the 2x2 sub-images
  CHECK_THAT(db, Equals(std::vector<float>{4}));
  CHECK_THAT(dx, Equals(std::vector<float>{0, 1, 1, 2, 3, 1, 2, 2, 0}));
}

TEST_CASE("reference conv2d relu zeroes negative outputs and their gradients", "[ops][reference]") {
  ConvGeometry g = test::conv_geometry(1, 1, 2, 2, 2, 1, 1, 1, 1, false, false, true);
  std::vector<float> x = {1, -2, 3, -4};  // (1, 1, 2, 2)
  std::vector<float> w = {1, -1};         // (2, 1, 1, 1): identity and negation
  std::vector<float> y(8);
  reference::conv2d_forward(g, x.data(), w.data(), nullptr, y.data());
  CHECK_THAT(y, Equals(std::vector<float>{1, 0, 3, 0, 0, 2, 0, 4}));
  std::vector<float> dy(8, 1.0f), dx(4), dw(2);
  reference::conv2d_backward(g, x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(),
                             nullptr);
  CHECK_THAT(dx, Equals(std::vector<float>{1, -1, 1, -1}));
  CHECK_THAT(dw, Equals(std::vector<float>{4, -6}));  // 1 + 3 and (-2) + (-4)
}

TEST_CASE("reference conv2d same padding with stride 2 pads bottom and right", "[ops][reference]") {
  // 4x4 input, 2x2 kernel, stride 2, same: output 2x2, no padding needed (pad 0).
  // 3x3 input, 2x2 kernel, stride 2, same: output 2x2, pad 1 at the bottom and right only.
  ConvGeometry g = test::conv_geometry(1, 1, 3, 3, 1, 2, 2, 2, 2, true, false, false);
  REQUIRE(g.pad_top == 0);
  REQUIRE(g.pad_bottom == 1);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 1, 1, 1}, y(4);
  reference::conv2d_forward(g, x.data(), w.data(), nullptr, y.data());
  CHECK_THAT(y, Equals(std::vector<float>{12, 9, 15, 9}));
}

TEST_CASE("reference max pool routes gradients to the first maximum", "[ops][reference]") {
  PoolGeometry g = test::pool_geometry(1, 1, 4, 4, 2, 2, 2, 2, false);
  std::vector<float> x = {1, 3, 2, 2,  //
                          4, 0, 2, 1,  //
                          5, 5, 0, 0,  //
                          5, 1, 0, -1};
  std::vector<float> y(4);
  std::vector<int32_t> argmax(4);
  reference::max_pool2d_forward(g, x.data(), y.data(), argmax.data());
  CHECK_THAT(y, Equals(std::vector<float>{4, 2, 5, 0}));
  CHECK(argmax == std::vector<int32_t>{4, 2, 8, 10});
  std::vector<float> dy = {1, 2, 3, 4}, dx(16);
  reference::max_pool2d_backward(g, dy.data(), argmax.data(), dx.data());
  CHECK_THAT(dx, Equals(std::vector<float>{0, 0, 2, 0, 1, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}));
}

TEST_CASE("reference max pool with same padding never picks a padded cell", "[ops][reference]") {
  PoolGeometry g = test::pool_geometry(1, 1, 3, 3, 2, 2, 2, 2, true);
  REQUIRE(g.oh == 2);
  std::vector<float> x = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, y(4);
  std::vector<int32_t> argmax(4);
  reference::max_pool2d_forward(g, x.data(), y.data(), argmax.data());
  CHECK_THAT(y, Equals(std::vector<float>{-1, -3, -7, -9}));
}

TEST_CASE("reference dense forward and backward by hand", "[ops][reference]") {
  DenseGeometry g{1, 2, 3, true, true};
  std::vector<float> x = {1, 2}, w = {1, 0, 0, 1, 1, -1}, b = {0, 0, 0.5f}, y(3);
  reference::dense_forward(g, x.data(), w.data(), b.data(), y.data());
  CHECK_THAT(y, Equals(std::vector<float>{1, 2, 0}));  // the third is relu(-0.5)
  std::vector<float> dy = {1, 1, 1}, dx(2), dw(6), db(3);
  reference::dense_backward(g, x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(),
                            db.data());
  CHECK_THAT(dx, Equals(std::vector<float>{1, 1}));
  CHECK_THAT(dw, Equals(std::vector<float>{1, 2, 1, 2, 0, 0}));
  CHECK_THAT(db, Equals(std::vector<float>{1, 1, 0}));
}

TEST_CASE("reference global average pooling and its gradient", "[ops][reference]") {
  std::vector<float> x = {1, 2, 3, 4, -1, -1, -1, -1}, y(2);  // (1, 2, 4)
  reference::global_avg_pool_forward(x.data(), y.data(), 1, 2, 4);
  CHECK_THAT(y, Equals(std::vector<float>{2.5f, -1.0f}));
  std::vector<float> dy = {4, 8}, dx(8);
  reference::global_avg_pool_backward(dy.data(), dx.data(), 1, 2, 4);
  CHECK_THAT(dx, Equals(std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2}));
}

TEST_CASE("reference transposes give Keras's (H, W, C) flatten order and back",
          "[ops][reference]") {
  std::vector<float> x = {0, 1, 2, 10, 11, 12}, y(6), back(6);  // (1, 2, 3)
  reference::nchw_to_nhwc(x.data(), y.data(), 1, 2, 3);
  CHECK_THAT(y, Equals(std::vector<float>{0, 10, 1, 11, 2, 12}));
  reference::nhwc_to_nchw(y.data(), back.data(), 1, 2, 3);
  CHECK_THAT(back, Equals(x));
}

TEST_CASE("reference softmax cross-entropy by hand, stable for large logits", "[ops][reference]") {
  std::vector<float> logits = {0,    0,   // loss ln 2, argmax 0 == label 0
                               1000, 0,   // loss 1000 for label 1 (no overflow)
                               3,    3};  // tie: argmax is the first index, label 1 is wrong
  std::vector<int32_t> labels = {0, 1, 1};
  std::vector<float> dlogits(6);
  LossSums sums =
      reference::softmax_cross_entropy(logits.data(), labels.data(), 3, 2, dlogits.data(), 0.5f);
  CHECK(sums.loss == Approx(std::log(2.0) + 1000.0 + std::log(2.0)).epsilon(1e-12));
  CHECK(sums.correct == 1);
  CHECK_THAT(dlogits, Equals(std::vector<float>{-0.25f, 0.25f, 0.5f, -0.5f, 0.25f, -0.25f}));
}

TEST_CASE("reference softmax cross-entropy rejects a label outside the classes",
          "[ops][reference]") {
  std::vector<float> logits = {0, 0};
  std::vector<int32_t> labels = {2};
  CHECK_THROWS(reference::softmax_cross_entropy(logits.data(), labels.data(), 1, 2, nullptr, 1));
}
