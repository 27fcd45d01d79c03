// Whole training steps of a small convnet (conv, pool, conv, pool, flatten, dropout, dense,
// softmax cross-entropy, Adam) driven through the Backend interface: the GPU's gradients agree
// with the reference's, and two GPU runs (fresh backends, handles and algorithm choices) are bit
// identical. Not here: layers, configs or the trainer (their own tests cover them).
#include "cuda_test_util.h"

#include <string>

namespace repro {
namespace {

using test::relative_error;
using test::same_bits;
using test::to_device;
using test::to_host;

struct Sizes {
  int n, h, c1, c2;  // batch, square image side, filters of the two convs
  int classes = 10;
};

// Everything one run produces, by name, downloaded to the host.
struct Outcome {
  std::vector<LossSums> sums;  // per step
  std::vector<std::pair<std::string, std::vector<float>>> tensors;
};

ConvGeometry conv3x3_valid(int n, int c, int h, int k) {
  ConvGeometry g;
  g.n = n, g.c = c, g.h = g.w = h, g.k = k, g.r = g.s = 3;
  g.oh = g.ow = h - 2;
  g.relu = true;
  return g;
}

PoolGeometry pool2x2(int n, int c, int h) {
  PoolGeometry g;
  g.n = n, g.c = c, g.h = g.w = h;
  g.oh = g.ow = h / 2;
  return g;
}

// `steps` training steps on one batch; Adam only when `update` (its steps amplify rounding
// differences, so the cross-backend comparison stops before it).
Outcome run_steps(Backend& be, const Sizes& z, int steps, bool update) {
  const ConvGeometry g1 = conv3x3_valid(z.n, 1, z.h, z.c1);
  const PoolGeometry p1 = pool2x2(z.n, z.c1, g1.oh);
  const ConvGeometry g2 = conv3x3_valid(z.n, z.c1, p1.oh, z.c2);
  const PoolGeometry p2 = pool2x2(z.n, z.c2, g2.oh);
  const int hw = p2.oh * p2.ow, features = z.c2 * hw;
  DenseGeometry gd;
  gd.n = z.n, gd.in = features, gd.out = z.classes;

  auto conv1 = be.make_conv2d(g1);
  auto pool1 = be.make_max_pool2d(p1);
  auto conv2 = be.make_conv2d(g2);
  auto pool2 = be.make_max_pool2d(p2);
  auto dense = be.make_dense(gd);

  Array x = to_device(be, test::random_floats(size_t(z.n) * z.h * z.h, 200, 0.0f, 1.0f));
  Array w1 = to_device(be, test::random_floats(size_t(z.c1) * 9, 201, -0.4f, 0.4f));
  Array b1 = to_device(be, test::random_floats(z.c1, 202, -0.1f, 0.1f));
  Array w2 = to_device(be, test::random_floats(size_t(z.c2) * z.c1 * 9, 203, -0.1f, 0.1f));
  Array b2 = to_device(be, test::random_floats(z.c2, 204, -0.1f, 0.1f));
  Array wd = to_device(be, test::random_floats(size_t(z.classes) * features, 205, -0.1f, 0.1f));
  Array bd = to_device(be, test::random_floats(z.classes, 206, -0.1f, 0.1f));
  std::vector<int32_t> labels(z.n);
  const StreamKey label_key = derive_key(3, Purpose::shuffle, 1, 0);
  for (int i = 0; i < z.n; ++i) labels[i] = int32_t(stream_bits(label_key, i) % z.classes);

  const size_t n_a1 = size_t(z.n) * z.c1 * g1.oh * g1.ow, n_p1 = size_t(z.n) * z.c1 * p1.oh * p1.ow;
  const size_t n_a2 = size_t(z.n) * z.c2 * g2.oh * g2.ow, n_p2 = size_t(z.n) * features;
  Array a1 = be.alloc(n_a1), q1 = be.alloc(n_p1), a2 = be.alloc(n_a2), q2 = be.alloc(n_p2);
  Array flat = be.alloc(n_p2), dropped = be.alloc(n_p2), logits = be.alloc(size_t(z.n) * z.classes);
  Array d_logits = be.alloc(logits.size()), d_dropped = be.alloc(n_p2), d_flat = be.alloc(n_p2);
  Array d_q2 = be.alloc(n_p2), d_a2 = be.alloc(n_a2), d_q1 = be.alloc(n_p1), d_a1 = be.alloc(n_a1);
  Array dw1 = be.alloc(w1.size()), db1 = be.alloc(b1.size()), dw2 = be.alloc(w2.size());
  Array db2 = be.alloc(b2.size()), dwd = be.alloc(wd.size()), dbd = be.alloc(bd.size());
  std::vector<std::pair<Array*, Array*>> params = {{&w1, &dw1}, {&b1, &db1}, {&w2, &dw2},
                                                   {&b2, &db2}, {&wd, &dwd}, {&bd, &dbd}};
  std::vector<Array> m, v;
  for (auto& p : params) {
    m.push_back(be.alloc(p.first->size()));
    v.push_back(be.alloc(p.first->size()));
  }

  Outcome out;
  for (int step = 0; step < steps; ++step) {
    const StreamKey drop_key = derive_key(42, Purpose::dropout, 5, uint32_t(step));
    conv1->forward(x.data(), w1.data(), b1.data(), a1.data());
    pool1->forward(a1.data(), q1.data());
    conv2->forward(q1.data(), w2.data(), b2.data(), a2.data());
    pool2->forward(a2.data(), q2.data());
    be.nchw_to_nhwc(q2.data(), flat.data(), z.n, z.c2, hw);
    be.dropout_forward(flat.data(), dropped.data(), n_p2, drop_key, 0.5f);
    dense->forward(dropped.data(), wd.data(), bd.data(), logits.data());
    out.sums.push_back(be.softmax_cross_entropy(logits.data(), labels.data(), z.n, z.classes,
                                                d_logits.data(), 1.0f / z.n));
    dense->backward(dropped.data(), wd.data(), logits.data(), d_logits.data(), d_dropped.data(),
                    dwd.data(), dbd.data());
    be.dropout_backward(d_dropped.data(), d_flat.data(), n_p2, drop_key, 0.5f);
    be.nhwc_to_nchw(d_flat.data(), d_q2.data(), z.n, z.c2, hw);
    pool2->backward(d_q2.data(), d_a2.data());
    conv2->backward(q1.data(), w2.data(), a2.data(), d_a2.data(), d_q1.data(), dw2.data(),
                    db2.data());
    pool1->backward(d_q1.data(), d_a1.data());
    conv1->backward(x.data(), w1.data(), a1.data(), d_a1.data(), nullptr, dw1.data(), db1.data());
    if (!update) continue;
    for (size_t i = 0; i < params.size(); ++i) {
      AdamParams adam;
      adam.step = step + 1;
      be.adam_update(params[i].first->data(), params[i].second->data(), m[i].data(), v[i].data(),
                     params[i].first->size(), adam);
    }
  }
  const char* names[6] = {"w1", "b1", "w2", "b2", "wd", "bd"};
  out.tensors.push_back({"logits", to_host(be, logits)});
  out.tensors.push_back({"d_logits", to_host(be, d_logits)});
  for (size_t i = 0; i < params.size(); ++i) {
    out.tensors.push_back({std::string("d") + names[i], to_host(be, *params[i].second)});
    out.tensors.push_back({names[i], to_host(be, *params[i].first)});
  }
  return out;
}

TEST_CASE("cudnn gradients of a whole training step agree with the reference", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const Sizes z{8, 14, 4, 8};
  auto ref = make_reference_backend({});
  auto gpu = make_cudnn_backend({});
  const Outcome want = run_steps(*ref, z, 1, false);
  const Outcome got = run_steps(*gpu, z, 1, false);
  CHECK(got.sums[0].correct == want.sums[0].correct);
  CHECK(std::fabs(got.sums[0].loss - want.sums[0].loss) <= test::kTolerance * want.sums[0].loss);
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    INFO(want.tensors[i].first);
    CHECK(relative_error(got.tensors[i].second, want.tensors[i].second) <= test::kTolerance);
  }
}

TEST_CASE("cudnn training steps are bit identical run to run (recipe shapes)", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  const Sizes z{64, 32, 32, 32};  // as configs/mnist_recipe.yaml: batch 64, 32x32, 32 filters
  Outcome runs[2];
  for (int run = 0; run < 2; ++run) {
    auto gpu = make_cudnn_backend({});  // fresh handles and algorithm choices each run
    runs[run] = run_steps(*gpu, z, 3, true);
  }
  for (size_t s = 0; s < runs[0].sums.size(); ++s) {
    CHECK(runs[1].sums[s].loss == runs[0].sums[s].loss);
    CHECK(runs[1].sums[s].correct == runs[0].sums[s].correct);
  }
  for (size_t i = 0; i < runs[0].tensors.size(); ++i) {
    INFO(runs[0].tensors[i].first);
    CHECK(same_bits(runs[1].tensors[i].second, runs[0].tensors[i].second));
  }
}

TEST_CASE("cudnn gives the same bits twice in one process (workspace reused)", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  auto gpu = make_cudnn_backend({});
  const Sizes z{32, 32, 32, 32};
  const Outcome first = run_steps(*gpu, z, 2, true);
  const Outcome second = run_steps(*gpu, z, 2, true);  // same backend, shared workspace reused
  for (size_t i = 0; i < first.tensors.size(); ++i) {
    INFO(first.tensors[i].first);
    CHECK(same_bits(second.tensors[i].second, first.tensors[i].second));
  }
}

TEST_CASE("cudnn with determinism off runs the same step", "[cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  BackendOptions fast;
  fast.deterministic = false;
  auto gpu = make_cudnn_backend(fast);
  auto ref = make_reference_backend({});
  const Sizes z{8, 14, 4, 8};
  const Outcome got = run_steps(*gpu, z, 1, false);
  const Outcome want = run_steps(*ref, z, 1, false);
  // TF32 may be chosen here: only a loose agreement is promised.
  CHECK(std::fabs(got.sums[0].loss - want.sums[0].loss) <= 1e-2 * want.sums[0].loss);
}

}  // namespace
}  // namespace repro
