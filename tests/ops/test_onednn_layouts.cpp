// The oneDNN backend's own fast paths and channel-blocked layouts against the reference, bit for
// bit: the 2x2 stride-2 max pool (ties, signed zeros, odd planes), plain or in channel blocks on
// either side, for 1, 2 and 4 threads; other pools, convolutions and dropout on channel blocks.
// Tolerances apply only to convolution sums: a max, a routed gradient and a mask are exact.
#include <catch2/catch.hpp>

#include <cstring>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "op_test_util.h"

using namespace repro;

namespace {

struct PoolBits {
  std::vector<float> y, dx;
};

PoolBits pool_both_ways(Backend& be, const PoolGeometry& g, const std::vector<float>& x,
                        const std::vector<float>& dy) {
  Array xa = test::to_backend(be, x), ya = be.alloc(dy.size());
  Array dya = test::to_backend(be, dy), dxa = be.alloc(x.size());
  auto op = be.make_max_pool2d(g);
  op->forward(xa.data(), ya.data());
  op->backward(dya.data(), dxa.data());
  return {test::to_host(be, ya), test::to_host(be, dxa)};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> to_blocks(const std::vector<float>& plain, int n, int c, int hw, int block) {
  std::vector<float> out(plain.size());
  plain_to_channel_blocks(plain.data(), out.data(), n, c, hw, block);
  return out;
}
std::vector<float> from_blocks(const std::vector<float>& blocked, int n, int c, int hw, int block) {
  std::vector<float> out(blocked.size());
  channel_blocks_to_plain(blocked.data(), out.data(), n, c, hw, block);
  return out;
}

// The pool on onednn with the geometry's channel blocks, fed and read back in plain order.
PoolBits pool_blocked(Backend& be, const PoolGeometry& g, const std::vector<float>& x,
                      const std::vector<float>& dy) {
  const int hw = g.h * g.w, ohw = g.oh * g.ow;
  PoolBits got = pool_both_ways(be, g, to_blocks(x, g.n, g.c, hw, g.x_block),
                                to_blocks(dy, g.n, g.c, ohw, g.y_block));
  return {from_blocks(got.y, g.n, g.c, ohw, g.y_block),
          from_blocks(got.dx, g.n, g.c, hw, g.x_block)};
}

// Relu-like inputs in {-0, +0, 1}: most windows tie, and -0 and +0 compare equal.
std::vector<float> tie_heavy(size_t n, uint32_t seed) {
  std::vector<float> x = test::random_tensor(n, seed);
  for (float& v : x) v = v < -0.3f ? -0.0f : (v < 0.6f ? 0.0f : 1.0f);
  return x;
}

}  // namespace

TEST_CASE("onednn 2x2 max pool gives the reference's bits on ties, signed zeros and odd planes",
          "[ops][onednn][pool]") {
  for (PoolGeometry g : {test::pool_geometry(3, 16, 14, 13, 2, 2, 2, 2, false),
                         test::pool_geometry(2, 5, 9, 10, 2, 2, 2, 2, false)}) {
    INFO("pool " << g.h << "x" << g.w);
    // Inputs in {-0, +0, 1}: relu outputs, where most windows tie; -0 and +0 compare equal, so
    // the first one in row-major order must win.
    std::vector<float> x = test::random_tensor(size_t(g.n) * g.c * g.h * g.w, 7);
    for (float& v : x) v = v < -0.3f ? -0.0f : (v < 0.6f ? 0.0f : 1.0f);
    std::vector<float> dy = test::random_tensor(size_t(g.n) * g.c * g.oh * g.ow, 8);
    dy[0] = -0.0f;
    auto reference = make_backend("reference", {});
    PoolBits want = pool_both_ways(*reference, g, x, dy);
    for (int threads : {1, 2, 4}) {
      INFO(threads << " threads");
      auto onednn = make_backend("onednn", BackendOptions{threads, true});
      PoolBits got = pool_both_ways(*onednn, g, x, dy);
      CHECK(same_bits(got.y, want.y));
      CHECK(same_bits(got.dx, want.dx));
    }
  }
}

TEST_CASE("onednn 2x2 max pool on channel blocks gives the reference's bits, ties included",
          "[ops][onednn][pool][layout]") {
  const std::pair<int, int> blocks[] = {{16, 16}, {16, 1}, {1, 16}, {8, 8}, {8, 1}, {1, 8}};
  for (PoolGeometry g : {test::pool_geometry(3, 32, 14, 13, 2, 2, 2, 2, false),
                         test::pool_geometry(2, 16, 9, 10, 2, 2, 2, 2, false),
                         test::pool_geometry(5, 32, 30, 30, 2, 2, 2, 2, false)}) {
    std::vector<float> x = tie_heavy(size_t(g.n) * g.c * g.h * g.w, 17);
    std::vector<float> dy = test::random_tensor(size_t(g.n) * g.c * g.oh * g.ow, 18);
    dy[0] = -0.0f;
    auto reference = make_backend("reference", {});
    PoolBits want = pool_both_ways(*reference, g, x, dy);
    for (auto [xb, yb] : blocks) {
      g.x_block = xb, g.y_block = yb;
      for (int threads : {1, 2, 4}) {
        INFO("pool " << g.h << "x" << g.w << " blocks " << xb << " -> " << yb << ", " << threads
                     << " threads");
        auto onednn = make_backend("onednn", BackendOptions{threads, true});
        PoolBits got = pool_blocked(*onednn, g, x, dy);
        CHECK(same_bits(got.y, want.y));
        CHECK(same_bits(got.dx, want.dx));
      }
    }
  }
}

TEST_CASE("onednn max pool outside the 2x2 loop accepts channel blocks",
          "[ops][onednn][pool][layout]") {
  for (PoolGeometry g : {test::pool_geometry(2, 16, 9, 9, 3, 3, 2, 2, true),
                         test::pool_geometry(3, 32, 8, 7, 2, 2, 1, 1, false)}) {
    std::vector<float> x = test::random_tensor(size_t(g.n) * g.c * g.h * g.w, 21);
    std::vector<float> dy = test::random_tensor(size_t(g.n) * g.c * g.oh * g.ow, 22);
    auto reference = make_backend("reference", {});
    auto onednn = make_backend("onednn", BackendOptions{2, true});
    PoolBits want =
        pool_both_ways(*onednn, g, x, dy);  // plain, checked against the reference elsewhere
    g.x_block = g.y_block = 16;
    INFO("pool " << g.r << "x" << g.s << " stride " << g.stride_h);
    PoolBits got = pool_blocked(*onednn, g, x, dy);
    CHECK(same_bits(got.y, want.y));
    CHECK(same_bits(got.dx, want.dx));
  }
}

namespace {

struct ConvBits {
  std::vector<float> y, dx, dw, db;
};

// Conv forward and backward on onednn with the geometry's channel blocks, in plain order.
ConvBits conv_blocked(int threads, const ConvGeometry& g) {
  auto be = make_backend("onednn", BackendOptions{threads, true});
  const int hw = g.h * g.w, ohw = g.oh * g.ow;
  Array x = test::to_backend(
      *be, to_blocks(test::random_tensor(test::input_size(g), 31), g.n, g.c, hw, g.x_block));
  Array w = test::to_backend(*be, test::random_tensor(test::weight_size(g), 32, -0.3f, 0.3f));
  Array b = test::to_backend(*be, test::random_tensor(g.k, 33));
  Array dy = test::to_backend(
      *be, to_blocks(test::random_tensor(test::output_size(g), 34), g.n, g.k, ohw, g.y_block));
  Array y = be->alloc(test::output_size(g)), dx = be->alloc(test::input_size(g));
  Array dw = be->alloc(test::weight_size(g)), db = be->alloc(g.k);
  auto op = be->make_conv2d(g);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  return {from_blocks(test::to_host(*be, y), g.n, g.k, ohw, g.y_block),
          from_blocks(test::to_host(*be, dx), g.n, g.c, hw, g.x_block), test::to_host(*be, dw),
          test::to_host(*be, db)};
}

}  // namespace

TEST_CASE(
    "onednn conv2d on channel blocks: 16 gives the plain layout's bits, any block is "
    "thread-count invariant",
    "[ops][onednn][layout][threads]") {
  // The recipe's second conv, a last batch that is not a multiple of 8, and 8-channel blocks
  // (another jit kernel than plain on AVX-512: close to the plain result, not equal; values
  // below 0.1 are compared absolutely, as sums of terms near 1 cancel to them).
  for (ConvGeometry g : {test::conv_geometry(16, 32, 15, 15, 32, 3, 3, 1, 1, false, true, true),
                         test::conv_geometry(13, 16, 6, 6, 32, 3, 3, 1, 1, false, true, true),
                         test::conv_geometry(9, 8, 7, 7, 8, 3, 3, 1, 1, true, true, false)}) {
    const int block = g.c % 16 == 0 ? 16 : 8;
    ConvBits plain = conv_blocked(2, g);
    for (auto [xb, yb] : {std::pair{block, block}, std::pair{1, block}, std::pair{block, 1}}) {
      g.x_block = xb, g.y_block = yb;
      INFO("conv c=" << g.c << " n=" << g.n << " blocks " << xb << " -> " << yb);
      ConvBits one = conv_blocked(1, g);
      if (block == 16) {
        CHECK(same_bits(one.y, plain.y));
        CHECK(same_bits(one.dx, plain.dx));
        CHECK(same_bits(one.dw, plain.dw));
        CHECK(same_bits(one.db, plain.db));
      } else {
        CHECK(test::max_relative_error(one.y, plain.y, 0.1) <= 1e-5);
        CHECK(test::max_relative_error(one.dx, plain.dx, 0.1) <= 1e-5);
        CHECK(test::max_relative_error(one.dw, plain.dw, 0.1) <= 1e-5);
        CHECK(test::max_relative_error(one.db, plain.db, 0.1) <= 1e-5);
      }
      for (int threads : {2, 4}) {
        ConvBits other = conv_blocked(threads, g);
        CHECK(same_bits(other.y, one.y));
        CHECK(same_bits(other.dx, one.dx));
        CHECK(same_bits(other.dw, one.dw));
        CHECK(same_bits(other.db, one.db));
      }
    }
  }
}

TEST_CASE("dropout on channel blocks keeps the plain element's mask bit, forward and backward",
          "[ops][onednn][dropout][layout]") {
  const int n = 5, c = 32, hw = 15 * 15;
  const size_t count = size_t(n) * c * hw;
  const StreamKey key = derive_key(812, Purpose::dropout, 2, 41);
  std::vector<float> x = test::random_tensor(count, 51), dy = test::random_tensor(count, 52);
  auto reference = make_backend("reference", {});
  Array xr = test::to_backend(*reference, x), yr = reference->alloc(count);
  Array dyr = test::to_backend(*reference, dy), dxr = reference->alloc(count);
  reference->dropout_forward(xr.data(), yr.data(), count, key, 0.2f);
  reference->dropout_backward(dyr.data(), dxr.data(), count, key, 0.2f);
  const std::vector<float> want_y = test::to_host(*reference, yr);
  const std::vector<float> want_dx = test::to_host(*reference, dxr);
  for (int block : {16, 8}) {
    for (int threads : {1, 2, 4}) {
      INFO("block " << block << ", " << threads << " threads");
      auto be = make_backend("onednn", BackendOptions{threads, true});
      Array xb = test::to_backend(*be, to_blocks(x, n, c, hw, block)), yb = be->alloc(count);
      Array dyb = test::to_backend(*be, to_blocks(dy, n, c, hw, block)), dxb = be->alloc(count);
      // The backward of a key whose forward is gone draws the mask again: the same bits.
      be->image_dropout_backward(dyb.data(), dxb.data(), n, c, hw, block, key, 0.2f);
      CHECK(same_bits(from_blocks(test::to_host(*be, dxb), n, c, hw, block), want_dx));
      be->image_dropout_forward(xb.data(), yb.data(), n, c, hw, block, key, 0.2f);
      CHECK(same_bits(from_blocks(test::to_host(*be, yb), n, c, hw, block), want_y));
      be->image_dropout_backward(dyb.data(), dxb.data(), n, c, hw, block, key, 0.2f);
      CHECK(same_bits(from_blocks(test::to_host(*be, dxb), n, c, hw, block), want_dx));
    }
  }
}
