// Every op of the cuDNN backend against the reference backend: relative error <= 1e-5 where the
// GPU sums in another order (conv, dense, loss), bit equality where the order is the same
// (pooling, transposes, dropout, Adam, SGD). Without a GPU each prints "REPRO_SKIPPED: no CUDA
// device" and ctest reports it skipped.
#include "cuda_test_util.h"

#include <string>

#include "core/error.h"

namespace repro {
namespace {

using test::relative_error;
using test::same_bits;
using test::to_device;
using test::to_host;

ConvGeometry conv_geometry(int n, int c, int h, int w, int k, int r, int s, int stride, int pad_top,
                           int pad_left, int pad_bottom, int pad_right, bool bias, bool relu) {
  ConvGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.stride_h = g.stride_w = stride;
  g.pad_top = pad_top, g.pad_left = pad_left, g.pad_bottom = pad_bottom, g.pad_right = pad_right;
  g.oh = (h + pad_top + pad_bottom - r) / stride + 1;
  g.ow = (w + pad_left + pad_right - s) / stride + 1;
  g.bias = bias, g.relu = relu;
  return g;
}

// Runs forward and backward of one conv on both backends. The GPU's backward gets the
// reference's y so both apply the same relu mask; the GPU may overwrite its dy copy.
void check_conv2d(const ConvGeometry& g, uint32_t salt) {
  auto ref = make_reference_backend({});
  auto gpu = make_cudnn_backend({});
  const size_t nx = size_t(g.n) * g.c * g.h * g.w, nw = size_t(g.k) * g.c * g.r * g.s;
  const size_t ny = size_t(g.n) * g.k * g.oh * g.ow;
  const auto x = test::random_floats(nx, salt);                   // (N, C, H, W)
  const auto w = test::random_floats(nw, salt + 1, -0.5f, 0.5f);  // (K, C, R, S)
  const auto b = test::random_floats(g.k, salt + 2);              // (K)
  const auto dy = test::random_floats(ny, salt + 3);              // (N, K, OH, OW)

  std::vector<std::vector<float>> results[2];  // y, dx, dw, db per backend
  std::vector<float> ref_y;
  for (int which = 0; which < 2; ++which) {
    Backend& be = which == 0 ? *ref : *gpu;
    Array dx = be.alloc(nx), dw = be.alloc(nw), db = be.alloc(g.k), y = be.alloc(ny);
    Array xd = to_device(be, x), wd = to_device(be, w), bd = to_device(be, b);
    Array dyd = to_device(be, dy);
    auto op = be.make_conv2d(g);
    op->forward(xd.data(), wd.data(), g.bias ? bd.data() : nullptr, y.data());
    const std::vector<float> y_host = to_host(be, y);
    if (which == 0) ref_y = y_host;
    Array y_for_backward = to_device(be, ref_y);
    op->backward(xd.data(), wd.data(), y_for_backward.data(), dyd.data(), dx.data(), dw.data(),
                 g.bias ? db.data() : nullptr);
    results[which] = {y_host, to_host(be, dx), to_host(be, dw), to_host(be, db)};
  }
  const char* names[4] = {"y", "dx", "dw", "db"};
  for (int i = 0; i < 4; ++i) {
    INFO(names[i] << " of conv " << g.n << "x" << g.c << "x" << g.h << "x" << g.w << " k" << g.k
                  << " " << g.r << "x" << g.s << " stride " << g.stride_h);
    CHECK(relative_error(results[1][i], results[0][i]) <= test::kTolerance);
  }
}

TEST_CASE("cudnn backend without a device throws a clear RuntimeError", "[cuda]") {
  if (cuda_device_count() > 0) {
    WARN("a CUDA device is present: the no-device error is not exercised here");
    return;
  }
  try {
    make_backend("cudnn", {});
    FAIL("make_backend(\"cudnn\") succeeded without a CUDA device");
  } catch (const RuntimeError& e) {
    CHECK(std::string(e.what()).find("no CUDA device") != std::string::npos);
    CHECK(std::string(e.what()).find("device: cpu") != std::string::npos);
  }
}

TEST_CASE("cudnn describes the GPU, the library versions and determinism", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const std::string on = make_cudnn_backend({})->describe();
  CHECK(on.find("compute capability") != std::string::npos);
  CHECK(on.find("cuDNN 9.") != std::string::npos);
  CHECK(on.find("deterministic") != std::string::npos);
  CHECK(on.find("nondeterministic") == std::string::npos);
  BackendOptions off;
  off.deterministic = false;
  CHECK(make_cudnn_backend(off)->describe().find("nondeterministic") != std::string::npos);
}

TEST_CASE("cudnn conv2d matches the reference forward and backward", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  SECTION("3x3 same, bias and relu (the recipe's first layer)") {
    check_conv2d(conv_geometry(4, 1, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, true, true), 10);
  }
  SECTION("3x3 valid, several channels") {
    check_conv2d(conv_geometry(3, 6, 11, 9, 5, 3, 3, 1, 0, 0, 0, 0, true, false), 20);
  }
  SECTION("stride 2 with uneven padding (TF same on an even input)") {
    check_conv2d(conv_geometry(2, 3, 10, 10, 4, 3, 3, 2, 0, 0, 1, 1, true, true), 30);
  }
  SECTION("5x5 without bias, uneven padding on the left") {
    check_conv2d(conv_geometry(2, 2, 8, 7, 3, 5, 5, 1, 2, 1, 2, 3, false, false), 40);
  }
  SECTION("1x1") {
    check_conv2d(conv_geometry(2, 7, 5, 5, 9, 1, 1, 1, 0, 0, 0, 0, true, true), 50);
  }
}

TEST_CASE("cudnn dense matches the reference forward and backward", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  for (const bool relu : {false, true}) {
    for (const bool bias : {false, true}) {
      DenseGeometry g;
      g.n = 33, g.in = 70, g.out = 13, g.bias = bias, g.relu = relu;
      auto ref = make_reference_backend({});
      auto gpu = make_cudnn_backend({});
      const auto x = test::random_floats(size_t(g.n) * g.in, 60);
      const auto w = test::random_floats(size_t(g.out) * g.in, 61, -0.3f, 0.3f);
      const auto b = test::random_floats(g.out, 62);
      const auto dy = test::random_floats(size_t(g.n) * g.out, 63);
      std::vector<std::vector<float>> results[2];
      std::vector<float> ref_y;
      for (int which = 0; which < 2; ++which) {
        Backend& be = which == 0 ? *ref : *gpu;
        Array xd = to_device(be, x), wd = to_device(be, w), bd = to_device(be, b);
        Array dyd = to_device(be, dy), y = be.alloc(size_t(g.n) * g.out);
        Array dx = be.alloc(x.size()), dw = be.alloc(w.size()), db = be.alloc(b.size());
        auto op = be.make_dense(g);
        op->forward(xd.data(), wd.data(), bias ? bd.data() : nullptr, y.data());
        const auto y_host = to_host(be, y);
        if (which == 0) ref_y = y_host;
        Array y_for_backward = to_device(be, ref_y);
        op->backward(xd.data(), wd.data(), y_for_backward.data(), dyd.data(), dx.data(), dw.data(),
                     bias ? db.data() : nullptr);
        results[which] = {y_host, to_host(be, dx), to_host(be, dw), to_host(be, db)};
      }
      INFO("relu " << relu << ", bias " << bias);
      for (int i = 0; i < 4; ++i)
        CHECK(relative_error(results[1][i], results[0][i]) <= test::kTolerance);
    }
  }
}

TEST_CASE("cudnn max pooling equals the reference bit for bit, ties included", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  struct Case {
    int r, stride, pad;
  };
  for (const Case c : {Case{2, 2, 0}, Case{3, 2, 1}, Case{3, 1, 1}}) {
    PoolGeometry g;
    g.n = 3, g.c = 4, g.h = 9, g.w = 8, g.r = g.s = c.r, g.stride_h = g.stride_w = c.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = c.pad;
    g.oh = (g.h + 2 * c.pad - c.r) / c.stride + 1;
    g.ow = (g.w + 2 * c.pad - c.r) / c.stride + 1;
    // Few distinct values, so many windows hold ties.
    auto x = test::random_floats(size_t(g.n) * g.c * g.h * g.w, 70, 0.0f, 4.0f);
    for (float& v : x) v = std::floor(v) - 2.0f;
    const auto dy = test::random_floats(size_t(g.n) * g.c * g.oh * g.ow, 71);
    std::vector<float> y[2], dx[2];
    for (int which = 0; which < 2; ++which) {
      auto be = which == 0 ? make_reference_backend({}) : make_cudnn_backend({});
      Array xd = to_device(*be, x), dyd = to_device(*be, dy);
      Array yd = be->alloc(dy.size()), dxd = be->alloc(x.size());
      auto op = be->make_max_pool2d(g);
      op->forward(xd.data(), yd.data());
      op->backward(dyd.data(), dxd.data());
      y[which] = to_host(*be, yd);
      dx[which] = to_host(*be, dxd);
    }
    INFO("window " << c.r << ", stride " << c.stride << ", pad " << c.pad);
    CHECK(same_bits(y[1], y[0]));
    CHECK(same_bits(dx[1], dx[0]));
  }
}

TEST_CASE("cudnn global average pooling and transposes equal the reference", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const int n = 5, c = 7, hw = 33;
  const auto x = test::random_floats(size_t(n) * c * hw, 80);
  const auto dy = test::random_floats(size_t(n) * c, 81);
  std::vector<float> out[2][4];
  for (int which = 0; which < 2; ++which) {
    auto be = which == 0 ? make_reference_backend({}) : make_cudnn_backend({});
    Array xd = to_device(*be, x), dyd = to_device(*be, dy);
    Array y = be->alloc(dy.size()), dx = be->alloc(x.size());
    Array t = be->alloc(x.size()), back = be->alloc(x.size());
    be->global_avg_pool_forward(xd.data(), y.data(), n, c, hw);
    be->global_avg_pool_backward(dyd.data(), dx.data(), n, c, hw);
    be->nchw_to_nhwc(xd.data(), t.data(), n, c, hw);
    be->nhwc_to_nchw(t.data(), back.data(), n, c, hw);
    out[which][0] = to_host(*be, y);
    out[which][1] = to_host(*be, dx);
    out[which][2] = to_host(*be, t);
    out[which][3] = to_host(*be, back);
  }
  for (int i = 0; i < 4; ++i) CHECK(same_bits(out[1][i], out[0][i]));
  CHECK(same_bits(out[1][3], x));
}

TEST_CASE("cudnn dropout mask equals the CPU's bit for bit", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const size_t count = 100003;  // odd: the last element uses half of a threefry block
  const std::vector<float> ones(count, 1.0f);
  const auto dy = test::random_floats(count, 90);
  for (const float rate : {0.5f, 0.25f, 0.9f}) {
    const StreamKey key = derive_key(42, Purpose::dropout, 7, 1234);
    std::vector<float> y[2], dx[2];
    for (int which = 0; which < 2; ++which) {
      auto be = which == 0 ? make_reference_backend({}) : make_cudnn_backend({});
      Array xd = to_device(*be, ones), dyd = to_device(*be, dy);
      Array yd = be->alloc(count), dxd = be->alloc(count);
      be->dropout_forward(xd.data(), yd.data(), count, key, rate);
      be->dropout_backward(dyd.data(), dxd.data(), count, key, rate);
      y[which] = to_host(*be, yd);
      dx[which] = to_host(*be, dxd);
    }
    size_t mismatches = 0;
    for (size_t i = 0; i < count; ++i)
      mismatches += (y[1][i] != 0.0f) != dropout_keep(key, i, rate);
    INFO("rate " << rate);
    CHECK(mismatches == 0);
    CHECK(same_bits(y[1], y[0]));
    CHECK(same_bits(dx[1], dx[0]));
  }
}

TEST_CASE("cudnn softmax cross-entropy matches the reference", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  for (const int n : {1, 128, 300}) {  // 300: two loss blocks, the second partly empty
    const int k = 10;
    const auto logits = test::random_floats(size_t(n) * k, 100, -6.0f, 6.0f);
    std::vector<int32_t> labels(n);
    const StreamKey key = derive_key(5, Purpose::shuffle, 0, 0);
    for (int i = 0; i < n; ++i) labels[i] = int32_t(stream_bits(key, i) % k);
    LossSums sums[2];
    std::vector<float> grad[2];
    for (int which = 0; which < 2; ++which) {
      auto be = which == 0 ? make_reference_backend({}) : make_cudnn_backend({});
      Array ld = to_device(*be, logits), dl = be->alloc(logits.size());
      sums[which] = be->softmax_cross_entropy(ld.data(), labels.data(), n, k, dl.data(), 1.0f / n);
      grad[which] = to_host(*be, dl);
      const LossSums no_grad =
          be->softmax_cross_entropy(ld.data(), labels.data(), n, k, nullptr, 1.0f);
      CHECK(no_grad.loss == sums[which].loss);
      CHECK(no_grad.correct == sums[which].correct);
    }
    INFO("n " << n);
    CHECK(sums[1].correct == sums[0].correct);
    CHECK(std::fabs(sums[1].loss - sums[0].loss) <= 1e-9 * std::fabs(sums[0].loss));
    CHECK(relative_error(grad[1], grad[0]) <= test::kTolerance);
  }
}

TEST_CASE("cudnn softmax cross-entropy rejects a label outside the classes", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  auto gpu = make_cudnn_backend({});
  Array logits = gpu->alloc(20);
  const std::vector<int32_t> labels = {3, 10};
  CHECK_THROWS_WITH(gpu->softmax_cross_entropy(logits.data(), labels.data(), 2, 10, nullptr, 1.0f),
                    Catch::Contains("label 10 of sample 1"));
}

TEST_CASE("cudnn Adam and SGD updates equal the reference bit for bit", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const size_t n = 4099;
  const auto w0 = test::random_floats(n, 110);
  std::vector<float> adam_w[2], adam_v[2], sgd_w[2], nesterov_w[2];
  for (int which = 0; which < 2; ++which) {
    auto be = which == 0 ? make_reference_backend({}) : make_cudnn_backend({});
    Array w = to_device(*be, w0), m = be->alloc(n), v = be->alloc(n);
    Array ws = to_device(*be, w0), wn = to_device(*be, w0), veln = be->alloc(n);
    for (int step = 1; step <= 3; ++step) {
      Array g = to_device(*be, test::random_floats(n, 120 + step, -0.1f, 0.1f));
      AdamParams adam;
      adam.step = step;
      be->adam_update(w.data(), g.data(), m.data(), v.data(), n, adam);
      SgdParams plain;
      be->sgd_update(ws.data(), g.data(), nullptr, n, plain);
      SgdParams nesterov;
      nesterov.momentum = 0.9f, nesterov.nesterov = true;
      be->sgd_update(wn.data(), g.data(), veln.data(), n, nesterov);
    }
    adam_w[which] = to_host(*be, w);
    adam_v[which] = to_host(*be, v);
    sgd_w[which] = to_host(*be, ws);
    nesterov_w[which] = to_host(*be, wn);
  }
  CHECK(same_bits(adam_w[1], adam_w[0]));
  CHECK(same_bits(adam_v[1], adam_v[0]));
  CHECK(same_bits(sgd_w[1], sgd_w[0]));
  CHECK(same_bits(nesterov_w[1], nesterov_w[0]));
}

}  // namespace
}  // namespace repro
