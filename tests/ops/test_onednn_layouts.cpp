// The oneDNN backend's own plain-NCHW fast paths against the reference, bit for bit: the 2x2
// stride-2 max pool (ties, signed zeros, odd planes) for 1, 2 and 4 threads. Tolerances do not
// apply here: a max and a routed gradient are exact.
#include <catch2/catch.hpp>

#include <cstring>
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
