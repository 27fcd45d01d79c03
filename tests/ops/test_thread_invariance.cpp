// Determinism across thread counts: with deterministic = true the onednn backend gives the same
// bits for 1, 2 and 4 threads (forward, backward data, weight and bias gradients), and dropout
// masks are the same on every backend and thread count.
#include <catch2/catch.hpp>

#include <vector>

#include "backend/backend.h"
#include "op_test_util.h"

using namespace repro;

namespace {

std::vector<float> conv_all_outputs(int threads, const ConvGeometry& g) {
  auto be = make_backend("onednn", BackendOptions{threads, true});
  Array x = test::to_backend(*be, test::random_tensor(test::input_size(g), 1));
  Array w = test::to_backend(*be, test::random_tensor(test::weight_size(g), 2, -0.3f, 0.3f));
  Array b = test::to_backend(*be, test::random_tensor(g.k, 3));
  Array dy = test::to_backend(*be, test::random_tensor(test::output_size(g), 4));
  Array y = be->alloc(test::output_size(g)), dx = be->alloc(test::input_size(g));
  Array dw = be->alloc(test::weight_size(g)), db = be->alloc(g.k);
  auto op = be->make_conv2d(g);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  std::vector<float> all;
  for (const Array* a : {&y, &dx, &dw, &db}) {
    std::vector<float> h = test::to_host(*be, *a);
    all.insert(all.end(), h.begin(), h.end());
  }
  return all;
}

std::vector<float> dense_all_outputs(int threads, const DenseGeometry& g) {
  auto be = make_backend("onednn", BackendOptions{threads, true});
  Array x = test::to_backend(*be, test::random_tensor(size_t(g.n) * g.in, 5));
  Array w = test::to_backend(*be, test::random_tensor(size_t(g.out) * g.in, 6));
  Array b = test::to_backend(*be, test::random_tensor(g.out, 7));
  Array dy = test::to_backend(*be, test::random_tensor(size_t(g.n) * g.out, 8));
  Array y = be->alloc(size_t(g.n) * g.out), dx = be->alloc(size_t(g.n) * g.in);
  Array dw = be->alloc(size_t(g.out) * g.in), db = be->alloc(g.out);
  auto op = be->make_dense(g);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  std::vector<float> all;
  for (const Array* a : {&y, &dx, &dw, &db}) {
    std::vector<float> h = test::to_host(*be, *a);
    all.insert(all.end(), h.begin(), h.end());
  }
  return all;
}

}  // namespace

TEST_CASE("onednn conv2d is bit-identical for 1, 2 and 4 threads when deterministic",
          "[ops][onednn][threads]") {
  for (ConvGeometry g : {test::conv_geometry(64, 1, 32, 32, 32, 3, 3, 1, 1, false, true, true),
                         test::conv_geometry(64, 32, 15, 15, 32, 3, 3, 1, 1, false, true, true),
                         test::conv_geometry(37, 32, 6, 6, 32, 3, 3, 1, 1, false, true, true)}) {
    INFO("conv c=" << g.c << " h=" << g.h << " n=" << g.n);
    std::vector<float> one = conv_all_outputs(1, g);
    CHECK(conv_all_outputs(2, g) == one);
    CHECK(conv_all_outputs(4, g) == one);
  }
}

TEST_CASE("onednn dense is bit-identical for 1, 2 and 4 threads when deterministic",
          "[ops][onednn][threads]") {
  for (DenseGeometry g :
       {DenseGeometry{64, 32, 64, true, true}, DenseGeometry{64, 64, 10, true, false},
        DenseGeometry{1000, 300, 200, true, false}}) {
    INFO("dense n=" << g.n << " in=" << g.in << " out=" << g.out);
    std::vector<float> one = dense_all_outputs(1, g);
    CHECK(dense_all_outputs(2, g) == one);
    CHECK(dense_all_outputs(4, g) == one);
  }
}

TEST_CASE("dropout masks are identical across backends and thread counts, keep ~ 1 - rate",
          "[ops][dropout]") {
  const size_t count = 200000;
  const float rate = 0.3f;
  std::vector<float> ones(count, 1.0f);
  StreamKey key = derive_key(1234, Purpose::dropout, 2, 99);
  std::vector<std::vector<float>> outputs;
  for (auto [name, threads] :
       {std::pair{"reference", 1}, {"onednn", 1}, {"onednn", 2}, {"onednn", 4}}) {
    auto be = make_backend(name, BackendOptions{threads, true});
    Array x = test::to_backend(*be, ones), y = be->alloc(count);
    be->dropout_forward(x.data(), y.data(), count, key, rate);
    outputs.push_back(test::to_host(*be, y));
  }
  for (size_t i = 1; i < outputs.size(); i++) CHECK(outputs[i] == outputs[0]);
  size_t kept = 0;
  for (float v : outputs[0]) {
    if (v != 0.0f) {
      kept++;
      REQUIRE(v == 1.0f / (1.0f - rate));
    }
  }
  double fraction = double(kept) / count;  // binomial sd ~ 0.001
  CHECK(fraction == Approx(1.0 - rate).margin(0.005));
  // A different step gives a different mask.
  auto be = make_backend("reference", {});
  Array x = test::to_backend(*be, ones), y = be->alloc(count);
  be->dropout_forward(x.data(), y.data(), count, derive_key(1234, Purpose::dropout, 2, 100), rate);
  CHECK(test::to_host(*be, y) != outputs[0]);
}
