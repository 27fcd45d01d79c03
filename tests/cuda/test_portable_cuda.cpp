// determinism: portable on the GPU: every op of the portable CUDA kernels gives the CPU portable
// backend's bits (the operation order of docs/design/portable.md on both). [cuda]: skips without a
// device.
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_test_util.h"

using namespace repro;

namespace {

struct Pair {
  std::unique_ptr<Backend> cpu = make_backend("portable", BackendOptions{2, true});
  std::unique_ptr<Backend> gpu = make_backend("portable_cuda", BackendOptions{1, true});
};

// Runs a conv forward and backward on `be` from host data; returns y, dx, dw, db.
std::vector<std::vector<float>> conv_step(Backend& be, const ConvGeometry& g, uint32_t salt) {
  const size_t xs = size_t(g.n) * g.c * g.h * g.w, ys = size_t(g.n) * g.k * g.oh * g.ow;
  const size_t ws = size_t(g.k) * g.c * g.r * g.s;
  Array x = test::to_device(be, test::random_floats(xs, salt));
  Array w = test::to_device(be, test::random_floats(ws, salt + 1, -0.5f, 0.5f));
  Array b = test::to_device(be, test::random_floats(g.k, salt + 2));
  Array dy = test::to_device(be, test::random_floats(ys, salt + 3));
  Array y = be.alloc(ys), dx = be.alloc(xs), dw = be.alloc(ws), db = be.alloc(g.k);
  auto op = be.make_conv2d(g);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  return {test::to_host(be, y), test::to_host(be, dx), test::to_host(be, dw),
          test::to_host(be, db)};
}

ConvGeometry conv(int n, int c, int h, int w, int k, int r, int stride, int pad) {
  ConvGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = r;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
  g.oh = (h + 2 * pad - r) / stride + 1;
  g.ow = (w + 2 * pad - r) / stride + 1;
  g.bias = true;
  g.relu = true;
  return g;
}

}  // namespace

TEST_CASE("portable CUDA conv2d gives the CPU portable bits", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  Pair be;
  for (const ConvGeometry& g : {conv(64, 1, 32, 32, 32, 3, 1, 0), conv(13, 32, 15, 15, 32, 3, 1, 0),
                                conv(5, 17, 9, 10, 20, 5, 2, 2)}) {
    auto cpu = conv_step(*be.cpu, g, 3), gpu = conv_step(*be.gpu, g, 3);
    for (size_t i = 0; i < cpu.size(); i++) {
      INFO("output " << i << " of conv K=" << g.k << " C=" << g.c);
      CHECK(test::same_bits(gpu[i], cpu[i]));
    }
  }
}

TEST_CASE("portable CUDA dense, loss, pooling and Adam give the CPU portable bits", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  Pair be;
  DenseGeometry g{37, 40, 10, true, true};
  auto run_dense = [&](Backend& b) {
    Array x = test::to_device(b, test::random_floats(size_t(g.n) * g.in, 5));
    Array w = test::to_device(b, test::random_floats(size_t(g.out) * g.in, 6, -0.5f, 0.5f));
    Array bias = test::to_device(b, test::random_floats(g.out, 7));
    Array dy = test::to_device(b, test::random_floats(size_t(g.n) * g.out, 8));
    Array y = b.alloc(size_t(g.n) * g.out), dx = b.alloc(size_t(g.n) * g.in);
    Array dw = b.alloc(size_t(g.out) * g.in), db = b.alloc(g.out);
    auto op = b.make_dense(g);
    op->forward(x.data(), w.data(), bias.data(), y.data());
    op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
    return std::vector<std::vector<float>>{test::to_host(b, y), test::to_host(b, dx),
                                           test::to_host(b, dw), test::to_host(b, db)};
  };
  auto cpu = run_dense(*be.cpu), gpu = run_dense(*be.gpu);
  for (size_t i = 0; i < cpu.size(); i++) CHECK(test::same_bits(gpu[i], cpu[i]));

  const int n = 37, k = 10;
  std::vector<float> logits = test::random_floats(size_t(n) * k, 9, -8.0f, 8.0f);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; i++) labels[i] = (i * 3) % k;
  auto loss = [&](Backend& b, LossSums& sums) {
    Array z = test::to_device(b, logits), dz = b.alloc(size_t(n) * k);
    sums = b.softmax_cross_entropy(z.data(), labels.data(), n, k, dz.data(), 1.0f / n);
    return test::to_host(b, dz);
  };
  LossSums cpu_sums, gpu_sums;
  CHECK(test::same_bits(loss(*be.gpu, gpu_sums), loss(*be.cpu, cpu_sums)));
  CHECK(gpu_sums.loss == cpu_sums.loss);
  CHECK(gpu_sums.correct == cpu_sums.correct);

  auto pooled = [&](Backend& b) {
    Array x = test::to_device(b, test::random_floats(3 * 32 * 16, 10)), y = b.alloc(3 * 32);
    b.global_avg_pool_forward(x.data(), y.data(), 3, 32, 16);
    return test::to_host(b, y);
  };
  CHECK(test::same_bits(pooled(*be.gpu), pooled(*be.cpu)));

  auto adam = [&](Backend& b) {
    const size_t size = 500;
    Array w = test::to_device(b, test::random_floats(size, 11)), m = b.alloc(size),
          v = b.alloc(size);
    Array grad = test::to_device(b, test::random_floats(size, 12));
    for (int64_t step = 1; step <= 5; step++) {
      AdamParams p;
      p.step = step;
      b.adam_update(w.data(), grad.data(), m.data(), v.data(), size, p);
    }
    return test::to_host(b, w);
  };
  CHECK(test::same_bits(adam(*be.gpu), adam(*be.cpu)));
}
