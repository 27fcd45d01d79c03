// oneDNN against the reference backend, op by op, forward and backward, on the recipe's shapes
// and odd ones (stride 2, asymmetric same padding, batch 1, a last batch of 32, non-square).
// Tolerance: relative error <= 1e-5, where elements smaller than 10% of the tensor's largest
// magnitude are measured against that 10% (float sums of many terms cancel to small values
// whose rounding error follows the size of the terms, not of the result).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "op_test_util.h"

using namespace repro;
using test::max_relative_error;

namespace {

constexpr double kTolerance = 1e-5;

double scaled_error(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  for (float v : b) largest = std::max(largest, double(std::fabs(v)));
  return max_relative_error(a, b, std::max(0.1 * largest, 1e-30));
}

struct Backends {
  std::unique_ptr<Backend> reference = make_backend("reference", {});
  std::unique_ptr<Backend> onednn;
  explicit Backends(bool deterministic = true, int threads = 2)
      : onednn(make_backend("onednn", BackendOptions{threads, deterministic})) {}
};

struct ConvResult {
  std::vector<float> y, dx, dw, db;
};

ConvResult run_conv(Backend& be, const ConvGeometry& g, uint32_t seed, bool want_dx = true) {
  Array x = test::to_backend(be, test::random_tensor(test::input_size(g), seed));
  Array w = test::to_backend(be, test::random_tensor(test::weight_size(g), seed + 1, -0.5f, 0.5f));
  Array b = test::to_backend(be, test::random_tensor(g.k, seed + 2));
  Array dy = test::to_backend(be, test::random_tensor(test::output_size(g), seed + 3));
  Array y = be.alloc(test::output_size(g)), dx = be.alloc(test::input_size(g));
  Array dw = be.alloc(test::weight_size(g)), db = be.alloc(g.k);
  auto op = be.make_conv2d(g);
  op->forward(x.data(), w.data(), g.bias ? b.data() : nullptr, y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), want_dx ? dx.data() : nullptr, dw.data(),
               g.bias ? db.data() : nullptr);
  return {test::to_host(be, y), want_dx ? test::to_host(be, dx) : std::vector<float>{},
          test::to_host(be, dw), g.bias ? test::to_host(be, db) : std::vector<float>{}};
}

void compare_conv(const ConvGeometry& g, bool deterministic = true, bool want_dx = true) {
  Backends be(deterministic);
  ConvResult want = run_conv(*be.reference, g, 5, want_dx);
  ConvResult got = run_conv(*be.onednn, g, 5, want_dx);
  CHECK(scaled_error(got.y, want.y) <= kTolerance);
  CHECK(scaled_error(got.dx, want.dx) <= kTolerance);
  CHECK(scaled_error(got.dw, want.dw) <= kTolerance);
  CHECK(scaled_error(got.db, want.db) <= kTolerance);
}

struct PoolResult {
  std::vector<float> y, dx;
};

PoolResult run_pool(Backend& be, const PoolGeometry& g, const std::vector<float>& x_host) {
  size_t nx = size_t(g.n) * g.c * g.h * g.w, ny = size_t(g.n) * g.c * g.oh * g.ow;
  Array x = test::to_backend(be, x_host);
  Array dy = test::to_backend(be, test::random_tensor(ny, 77));
  Array y = be.alloc(ny), dx = be.alloc(nx);
  auto op = be.make_max_pool2d(g);
  op->forward(x.data(), y.data());
  op->backward(dy.data(), dx.data());
  return {test::to_host(be, y), test::to_host(be, dx)};
}

void compare_pool(const PoolGeometry& g, bool ties) {
  size_t nx = size_t(g.n) * g.c * g.h * g.w;
  std::vector<float> x = test::random_tensor(nx, 99);
  if (ties)
    for (float& v : x) v = std::floor(v * 1.5f);  // values in {-2, -1, 0, 1}: many ties
  Backends be;
  PoolResult want = run_pool(*be.reference, g, x);
  PoolResult got = run_pool(*be.onednn, g, x);
  CHECK(got.y == want.y);    // a max is exact
  CHECK(got.dx == want.dx);  // routed to the same (first) winner
}

struct DenseResult {
  std::vector<float> y, dx, dw, db;
};

DenseResult run_dense(Backend& be, const DenseGeometry& g, uint32_t seed) {
  Array x = test::to_backend(be, test::random_tensor(size_t(g.n) * g.in, seed));
  Array w = test::to_backend(be, test::random_tensor(size_t(g.out) * g.in, seed + 1));
  Array b = test::to_backend(be, test::random_tensor(g.out, seed + 2));
  Array dy = test::to_backend(be, test::random_tensor(size_t(g.n) * g.out, seed + 3));
  Array y = be.alloc(size_t(g.n) * g.out), dx = be.alloc(size_t(g.n) * g.in);
  Array dw = be.alloc(size_t(g.out) * g.in), db = be.alloc(g.out);
  auto op = be.make_dense(g);
  op->forward(x.data(), w.data(), g.bias ? b.data() : nullptr, y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(),
               g.bias ? db.data() : nullptr);
  return {test::to_host(be, y), test::to_host(be, dx), test::to_host(be, dw),
          g.bias ? test::to_host(be, db) : std::vector<float>{}};
}

}  // namespace

TEST_CASE("onednn conv2d matches the reference on the recipe's layers", "[ops][onednn]") {
  SECTION("conv 1->32 on 32x32, relu, first layer (no dx)") {
    compare_conv(test::conv_geometry(16, 1, 32, 32, 32, 3, 3, 1, 1, false, true, true), true,
                 false);
  }
  SECTION("conv 32->32 on 15x15, relu, a last batch of 32") {
    compare_conv(test::conv_geometry(32, 32, 15, 15, 32, 3, 3, 1, 1, false, true, true));
  }
  SECTION("conv 32->32 on 6x6, relu, batch 19 (micro-batches 8 + 8 + 3)") {
    compare_conv(test::conv_geometry(19, 32, 6, 6, 32, 3, 3, 1, 1, false, true, true));
  }
}

TEST_CASE("onednn conv2d matches the reference on odd shapes", "[ops][onednn]") {
  SECTION("stride 2, same padding with asymmetric pads, non-square input") {
    compare_conv(test::conv_geometry(3, 5, 9, 7, 6, 3, 3, 2, 2, true, true, false));
  }
  SECTION("batch 1, 2x3 kernel, no bias, relu") {
    compare_conv(test::conv_geometry(1, 3, 8, 5, 4, 2, 3, 1, 1, false, false, true));
  }
  SECTION("stride 2x1, same padding, 17 channels") {
    compare_conv(test::conv_geometry(10, 17, 7, 6, 9, 3, 2, 2, 1, true, true, true));
  }
  SECTION("fast (non-deterministic) weight gradients") {
    compare_conv(test::conv_geometry(12, 8, 10, 10, 16, 3, 3, 1, 1, false, true, true), false);
  }
}

TEST_CASE("onednn max pool matches the reference, ties included", "[ops][onednn]") {
  SECTION("recipe pool 30x30 -> 15x15") {
    compare_pool(test::pool_geometry(4, 32, 30, 30, 2, 2, 2, 2, false), false);
  }
  SECTION("recipe pool 13x13 -> 6x6 with ties") {
    compare_pool(test::pool_geometry(4, 32, 13, 13, 2, 2, 2, 2, false), true);
  }
  SECTION("3x3 stride 2 same padding, ties") {
    compare_pool(test::pool_geometry(2, 3, 9, 8, 3, 3, 2, 2, true), true);
  }
  SECTION("batch 1, non-square window") {
    compare_pool(test::pool_geometry(1, 2, 7, 9, 2, 3, 2, 3, false), false);
  }
}

TEST_CASE("onednn dense matches the reference", "[ops][onednn]") {
  for (DenseGeometry g :
       {DenseGeometry{64, 32, 64, true, true}, DenseGeometry{64, 64, 10, true, false},
        DenseGeometry{1, 7, 5, false, true}, DenseGeometry{32, 13, 3, true, false},
        DenseGeometry{19, 20, 6, true, true}}) {
    INFO("dense n=" << g.n << " in=" << g.in << " out=" << g.out);
    Backends be;
    DenseResult want = run_dense(*be.reference, g, 9);
    DenseResult got = run_dense(*be.onednn, g, 9);
    CHECK(scaled_error(got.y, want.y) <= kTolerance);
    CHECK(scaled_error(got.dx, want.dx) <= kTolerance);
    CHECK(scaled_error(got.dw, want.dw) <= kTolerance);
    CHECK(scaled_error(got.db, want.db) <= kTolerance);
  }
}

TEST_CASE("onednn element-wise ops, loss and optimizers equal the reference bitwise",
          "[ops][onednn]") {
  Backends be;
  const int n = 5, c = 7, hw = 9;
  size_t count = size_t(n) * c * hw;
  std::vector<float> x = test::random_tensor(count, 501);
  auto both = [&](auto&& f) {
    std::vector<float> a = f(*be.reference), b = f(*be.onednn);
    CHECK(a == b);
  };
  both([&](Backend& bk) {
    Array in = test::to_backend(bk, x), out = bk.alloc(size_t(n) * c), back = bk.alloc(count);
    bk.global_avg_pool_forward(in.data(), out.data(), n, c, hw);
    bk.global_avg_pool_backward(out.data(), back.data(), n, c, hw);
    std::vector<float> r = test::to_host(bk, out), g = test::to_host(bk, back);
    r.insert(r.end(), g.begin(), g.end());
    return r;
  });
  both([&](Backend& bk) {
    Array in = test::to_backend(bk, x), t = bk.alloc(count), back = bk.alloc(count);
    bk.nchw_to_nhwc(in.data(), t.data(), n, c, hw);
    bk.nhwc_to_nchw(t.data(), back.data(), n, c, hw);
    CHECK(test::to_host(bk, back) == x);
    return test::to_host(bk, t);
  });
  both([&](Backend& bk) {
    Array in = test::to_backend(bk, x), out = bk.alloc(count), back = bk.alloc(count);
    StreamKey key = derive_key(42, Purpose::dropout, 3, 17);
    bk.dropout_forward(in.data(), out.data(), count, key, 0.25f);
    bk.dropout_backward(in.data(), back.data(), count, key, 0.25f);
    std::vector<float> r = test::to_host(bk, out), g = test::to_host(bk, back);
    r.insert(r.end(), g.begin(), g.end());
    return r;
  });
  // The oneDNN backward reuses the forward's stored mask: with two layers' masks interleaved, and
  // for a key whose forward it never saw (drawn again), the bits stay the reference's.
  both([&](Backend& bk) {
    Array in = test::to_backend(bk, x), out = bk.alloc(count), back = bk.alloc(count);
    const StreamKey a = derive_key(42, Purpose::dropout, 1, 5),
                    b = derive_key(42, Purpose::dropout, 2, 5);
    const StreamKey unseen = derive_key(42, Purpose::dropout, 9, 9);
    bk.dropout_forward(in.data(), out.data(), count, a, 0.5f);
    bk.dropout_forward(in.data(), out.data(), count - 3, b, 0.125f);
    std::vector<float> r;
    for (const auto& [key, n, rate] : {std::tuple{a, count, 0.5f}, std::tuple{b, count - 3, 0.125f},
                                       std::tuple{unseen, count, 0.5f}}) {
      bk.dropout_backward(in.data(), back.data(), n, key, rate);
      std::vector<float> g = test::to_host(bk, back);
      r.insert(r.end(), g.begin(), g.begin() + static_cast<long>(n));
    }
    return r;
  });
  both([&](Backend& bk) {
    std::vector<float> logits = test::random_tensor(6 * 10, 502, -4, 4);
    std::vector<int32_t> labels = {0, 9, 3, 3, 7, 1};
    Array z = test::to_backend(bk, logits), dz = bk.alloc(60);
    LossSums s = bk.softmax_cross_entropy(z.data(), labels.data(), 6, 10, dz.data(), 1.0f / 6);
    std::vector<float> r = test::to_host(bk, dz);
    r.push_back(float(s.loss));
    r.push_back(float(s.correct));
    return r;
  });
  both([&](Backend& bk) {
    std::vector<float> w0 = test::random_tensor(1000, 503), g0 = test::random_tensor(1000, 504);
    Array w = test::to_backend(bk, w0), g = test::to_backend(bk, g0), m = bk.alloc(1000),
          v = bk.alloc(1000), vel = bk.alloc(1000);
    for (int64_t t = 1; t <= 3; t++)
      bk.adam_update(w.data(), g.data(), m.data(), v.data(), 1000,
                     AdamParams{0.001f, 0.9f, 0.999f, 1e-7f, t});
    bk.sgd_update(w.data(), g.data(), vel.data(), 1000, SgdParams{0.01f, 0.9f, true});
    return test::to_host(bk, w);
  });
}
