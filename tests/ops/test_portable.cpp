// The portable backend (determinism: portable): every op equals, bit for bit, a scalar
// implementation of its specified operation order (docs/design/portable.md); every ISA path and
// thread count gives those same bits; the results agree with the reference backend within
// 1e-5; its exp and log stay within 2 ulp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "backend/portable/portable_backend.h"
#include "backend/portable/portable_math.h"
#include "core/error.h"
#include "ops/op_test_util.h"

using namespace repro;

namespace {

// A portable backend on one ISA path ("" = the best here) and thread count.
std::unique_ptr<Backend> portable_backend(const std::string& isa, int threads) {
  BackendOptions options{threads, true};
  options.isa = isa;
  return make_backend("portable", options);
}

// The ISA paths this CPU runs.
std::vector<std::string> runnable_isas() {
  std::vector<std::string> isas;
  for (const char* isa : {"sse2", "avx2", "avx512"}) {
    try {
      portable_isa_path(isa);
      isas.push_back(isa);
    } catch (const InputError&) {
    }
  }
  return isas;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

struct ConvData {
  std::vector<float> x, w, b, dy;
};
struct ConvResult {
  std::vector<float> y, dx, dw, db;
};

ConvData conv_data(const ConvGeometry& g, uint32_t seed) {
  return {test::random_tensor(test::input_size(g), seed),
          test::random_tensor(test::weight_size(g), seed + 1, -0.5f, 0.5f),
          test::random_tensor(g.k, seed + 2), test::random_tensor(test::output_size(g), seed + 3)};
}

ConvResult run_conv(Backend& be, const ConvGeometry& g, const ConvData& d) {
  Array x = test::to_backend(be, d.x), w = test::to_backend(be, d.w);
  Array b = test::to_backend(be, d.b), dy = test::to_backend(be, d.dy);
  Array y = be.alloc(test::output_size(g)), dx = be.alloc(test::input_size(g));
  Array dw = be.alloc(test::weight_size(g)), db = be.alloc(g.k);
  auto op = be.make_conv2d(g);
  op->forward(x.data(), w.data(), g.bias ? b.data() : nullptr, y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(),
               g.bias ? db.data() : nullptr);
  return {test::to_host(be, y), test::to_host(be, dx), test::to_host(be, dw),
          g.bias ? test::to_host(be, db) : std::vector<float>{}};
}

// The specified order, as plain scalar loops (one rounding per multiply and per add).
ConvResult conv_by_spec(const ConvGeometry& g, const ConvData& d) {
  auto xat = [&](int n, int c, int ih, int iw) {
    if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return 0.0f;
    return d.x[((size_t(n) * g.c + c) * g.h + ih) * g.w + iw];
  };
  ConvResult out;
  out.y.resize(test::output_size(g));
  for (int n = 0; n < g.n; n++)
    for (int k = 0; k < g.k; k++)
      for (int oh = 0; oh < g.oh; oh++)
        for (int ow = 0; ow < g.ow; ow++) {
          float acc = 0.0f;
          for (int c = 0; c < g.c; c++)
            for (int r = 0; r < g.r; r++)
              for (int s = 0; s < g.s; s++) {
                float product =
                    xat(n, c, oh * g.stride_h - g.pad_top + r, ow * g.stride_w - g.pad_left + s) *
                    d.w[((size_t(k) * g.c + c) * g.r + r) * g.s + s];
                acc = acc + product;
              }
          float v = g.bias ? acc + d.b[k] : acc;
          if (g.relu && !(v > 0.0f)) v = 0.0f;
          out.y[((size_t(n) * g.k + k) * g.oh + oh) * g.ow + ow] = v;
        }
  auto grad = [&](int n, int k, int oh, int ow) {
    size_t i = ((size_t(n) * g.k + k) * g.oh + oh) * g.ow + ow;
    return (g.relu && !(out.y[i] > 0.0f)) ? 0.0f : d.dy[i];
  };
  out.dx.resize(test::input_size(g));
  for (int n = 0; n < g.n; n++)
    for (int c = 0; c < g.c; c++)
      for (int ih = 0; ih < g.h; ih++)
        for (int iw = 0; iw < g.w; iw++) {
          float acc = 0.0f;
          for (int k = 0; k < g.k; k++)
            for (int r = 0; r < g.r; r++)
              for (int s = 0; s < g.s; s++) {
                int th = ih + g.pad_top - r, tw = iw + g.pad_left - s;
                float dv = 0.0f;
                if (th >= 0 && tw >= 0 && th % g.stride_h == 0 && tw % g.stride_w == 0 &&
                    th / g.stride_h < g.oh && tw / g.stride_w < g.ow)
                  dv = grad(n, k, th / g.stride_h, tw / g.stride_w);
                float product = dv * d.w[((size_t(k) * g.c + c) * g.r + r) * g.s + s];
                acc = acc + product;
              }
          out.dx[((size_t(n) * g.c + c) * g.h + ih) * g.w + iw] = acc;
        }
  // Weight and bias gradients: a sum per chunk of 8 images, the chunks folded in order.
  out.dw.resize(test::weight_size(g));
  out.db.resize(g.bias ? g.k : 0);
  for (int k = 0; k < g.k; k++) {
    for (int c = 0; c < g.c; c++)
      for (int r = 0; r < g.r; r++)
        for (int s = 0; s < g.s; s++) {
          float total = 0.0f;
          for (int first = 0; first < g.n; first += kChunk) {
            float acc = 0.0f;
            for (int n = first; n < std::min(g.n, first + kChunk); n++)
              for (int oh = 0; oh < g.oh; oh++) {
                float row = 0.0f;
                for (int ow = 0; ow < g.ow; ow++) {
                  float product =
                      xat(n, c, oh * g.stride_h - g.pad_top + r, ow * g.stride_w - g.pad_left + s) *
                      grad(n, k, oh, ow);
                  row = row + product;
                }
                acc = acc + row;
              }
            total = first == 0 ? acc : total + acc;
          }
          out.dw[((size_t(k) * g.c + c) * g.r + r) * g.s + s] = total;
        }
    if (g.bias) {
      float total = 0.0f;
      for (int first = 0; first < g.n; first += kChunk) {
        float acc = 0.0f;
        for (int n = first; n < std::min(g.n, first + kChunk); n++)
          for (int oh = 0; oh < g.oh; oh++) {
            float row = 0.0f;
            for (int ow = 0; ow < g.ow; ow++) row = row + grad(n, k, oh, ow);
            acc = acc + row;
          }
        total = first == 0 ? acc : total + acc;
      }
      out.db[k] = total;
    }
  }
  return out;
}

struct DenseResult {
  std::vector<float> y, dx, dw, db;
};

DenseResult run_dense(Backend& be, const DenseGeometry& g, uint32_t seed) {
  Array x = test::to_backend(be, test::random_tensor(size_t(g.n) * g.in, seed));
  Array w = test::to_backend(be, test::random_tensor(size_t(g.out) * g.in, seed + 1, -0.5f, 0.5f));
  Array b = test::to_backend(be, test::random_tensor(g.out, seed + 2));
  Array dy = test::to_backend(be, test::random_tensor(size_t(g.n) * g.out, seed + 3));
  Array y = be.alloc(size_t(g.n) * g.out), dx = be.alloc(size_t(g.n) * g.in);
  Array dw = be.alloc(size_t(g.out) * g.in), db = be.alloc(g.out);
  auto op = be.make_dense(g);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  return {test::to_host(be, y), test::to_host(be, dx), test::to_host(be, dw),
          test::to_host(be, db)};
}

DenseResult dense_by_spec(const DenseGeometry& g, uint32_t seed) {
  auto x = test::random_tensor(size_t(g.n) * g.in, seed);
  auto w = test::random_tensor(size_t(g.out) * g.in, seed + 1, -0.5f, 0.5f);
  auto b = test::random_tensor(g.out, seed + 2);
  auto dy = test::random_tensor(size_t(g.n) * g.out, seed + 3);
  DenseResult out{std::vector<float>(size_t(g.n) * g.out), std::vector<float>(size_t(g.n) * g.in),
                  std::vector<float>(size_t(g.out) * g.in), std::vector<float>(g.out)};
  for (int n = 0; n < g.n; n++)
    for (int o = 0; o < g.out; o++) {
      float acc = 0.0f;
      for (int i = 0; i < g.in; i++) {
        float product = x[size_t(n) * g.in + i] * w[size_t(o) * g.in + i];
        acc = acc + product;
      }
      float v = acc + b[o];
      out.y[size_t(n) * g.out + o] = (g.relu && !(v > 0.0f)) ? 0.0f : v;
    }
  auto grad = [&](int n, int o) {
    size_t i = size_t(n) * g.out + o;
    return (g.relu && !(out.y[i] > 0.0f)) ? 0.0f : dy[i];
  };
  for (int n = 0; n < g.n; n++)
    for (int i = 0; i < g.in; i++) {
      float acc = 0.0f;
      for (int o = 0; o < g.out; o++) {
        float product = grad(n, o) * w[size_t(o) * g.in + i];
        acc = acc + product;
      }
      out.dx[size_t(n) * g.in + i] = acc;
    }
  for (int o = 0; o < g.out; o++) {
    for (int i = 0; i < g.in; i++) {
      float total = 0.0f;
      for (int first = 0; first < g.n; first += kChunk) {
        float acc = 0.0f;
        for (int n = first; n < std::min(g.n, first + kChunk); n++) {
          float product = grad(n, o) * x[size_t(n) * g.in + i];
          acc = acc + product;
        }
        total = first == 0 ? acc : total + acc;
      }
      out.dw[size_t(o) * g.in + i] = total;
    }
    float total = 0.0f;
    for (int first = 0; first < g.n; first += kChunk) {
      float acc = 0.0f;
      for (int n = first; n < std::min(g.n, first + kChunk); n++) acc = acc + grad(n, o);
      total = first == 0 ? acc : total + acc;
    }
    out.db[o] = total;
  }
  return out;
}

std::vector<ConvGeometry> conv_cases() {
  using test::conv_geometry;
  return {
      conv_geometry(64, 1, 32, 32, 32, 3, 3, 1, 1, false, true, true),   // recipe conv 1
      conv_geometry(13, 32, 15, 15, 32, 3, 3, 1, 1, false, true, true),  // recipe conv 2, odd N
      conv_geometry(9, 3, 11, 7, 10, 3, 2, 2, 1, true, true, false),     // same, stride, K=10
      conv_geometry(5, 17, 9, 10, 20, 5, 5, 2, 2, true, false, true),    // 5x5, no bias, C=17
      conv_geometry(1, 2, 4, 4, 1, 1, 1, 1, 1, false, true, false),      // 1x1, batch of 1
      conv_geometry(3, 5, 14, 20, 7, 3, 3, 1, 1, true, true, true),      // row kernels, K=7, C=5
      conv_geometry(2, 3, 13, 33, 6, 3, 3, 2, 1, false, true, false),    // rows, stride (2, 1)
  };
}

}  // namespace

TEST_CASE("portable conv2d follows its specified operation order bit for bit", "[ops][portable]") {
  auto be = portable_backend("", 2);
  for (const ConvGeometry& g : conv_cases()) {
    INFO("conv " << g.n << "x" << g.c << "x" << g.h << "x" << g.w << " -> " << g.k << " " << g.r
                 << "x" << g.s << " stride " << g.stride_h << "," << g.stride_w);
    ConvData d = conv_data(g, 11);
    ConvResult got = run_conv(*be, g, d), want = conv_by_spec(g, d);
    CHECK(same_bits(got.y, want.y));
    CHECK(same_bits(got.dx, want.dx));
    CHECK(same_bits(got.dw, want.dw));
    CHECK(same_bits(got.db, want.db));
  }
}

TEST_CASE("portable chunk_grads hands out each chunk's sums, which fold to the op's own",
          "[ops][portable]") {
  auto be = portable_backend("", 2);
  REQUIRE(be->chunk_grads_supported());
  ConvGeometry g = test::conv_geometry(21, 3, 12, 12, 5, 3, 3, 1, 1, false, true, true);
  ConvData d = conv_data(g, 13);
  ConvResult whole = run_conv(*be, g, d);
  ConvGeometry split = g;
  split.chunk_grads = true;
  const int chunks = chunk_count(g.n);
  Array x = test::to_backend(*be, d.x), w = test::to_backend(*be, d.w);
  Array b = test::to_backend(*be, d.b), dy = test::to_backend(*be, d.dy);
  Array y = be->alloc(test::output_size(g)), dx = be->alloc(test::input_size(g));
  Array dw = be->alloc(size_t(chunks) * test::weight_size(g)), db = be->alloc(size_t(chunks) * g.k);
  auto op = be->make_conv2d(split);
  op->forward(x.data(), w.data(), b.data(), y.data());
  op->backward(x.data(), w.data(), y.data(), dy.data(), dx.data(), dw.data(), db.data());
  std::vector<float> parts = test::to_host(*be, dw), bias_parts = test::to_host(*be, db);
  std::vector<float> folded(test::weight_size(g)), bias_folded(g.k);
  for (size_t i = 0; i < folded.size(); i++) {
    float acc = parts[i];
    for (int c = 1; c < chunks; c++) acc += parts[c * folded.size() + i];
    folded[i] = acc;
  }
  for (int k = 0; k < g.k; k++) {
    float acc = bias_parts[k];
    for (int c = 1; c < chunks; c++) acc += bias_parts[size_t(c) * g.k + k];
    bias_folded[k] = acc;
  }
  CHECK(same_bits(folded, whole.dw));
  CHECK(same_bits(bias_folded, whole.db));
  CHECK(same_bits(test::to_host(*be, dx), whole.dx));
}

TEST_CASE("portable dense follows its specified operation order bit for bit", "[ops][portable]") {
  auto be = portable_backend("", 2);
  for (DenseGeometry g :
       {DenseGeometry{64, 32, 64, true, true}, DenseGeometry{19, 37, 10, true, false},
        DenseGeometry{1, 5, 3, true, true}}) {
    INFO("dense " << g.n << "x" << g.in << " -> " << g.out);
    DenseResult got = run_dense(*be, g, 21), want = dense_by_spec(g, 21);
    CHECK(same_bits(got.y, want.y));
    CHECK(same_bits(got.dx, want.dx));
    CHECK(same_bits(got.dw, want.dw));
    CHECK(same_bits(got.db, want.db));
  }
}

TEST_CASE("every portable ISA path and thread count gives the same bits", "[ops][portable]") {
  const std::vector<std::string> isas = runnable_isas();
  REQUIRE(!isas.empty());
  INFO("ISA paths on this CPU: " << isas.size());
  auto first = portable_backend(isas[0], 1);
  for (const ConvGeometry& g : conv_cases()) {
    ConvData d = conv_data(g, 3);
    ConvResult want = run_conv(*first, g, d);
    for (const std::string& isa : isas)
      for (int threads : {1, 2, 3}) {
        INFO(isa << " path, " << threads << " threads, conv K=" << g.k);
        auto be = portable_backend(isa, threads);
        ConvResult got = run_conv(*be, g, d);
        CHECK(same_bits(got.y, want.y));
        CHECK(same_bits(got.dx, want.dx));
        CHECK(same_bits(got.dw, want.dw));
        CHECK(same_bits(got.db, want.db));
      }
  }
  DenseGeometry dg{23, 40, 17, true, true};
  DenseResult want = run_dense(*first, dg, 9);
  for (const std::string& isa : isas) {
    auto be = portable_backend(isa, 2);
    DenseResult got = run_dense(*be, dg, 9);
    CHECK(same_bits(got.y, want.y));
    CHECK(same_bits(got.dx, want.dx));
    CHECK(same_bits(got.dw, want.dw));
  }
}

TEST_CASE("portable ops agree with the reference backend within 1e-5", "[ops][portable]") {
  auto be = portable_backend("", 2);
  auto ref = make_backend("reference", {});
  auto scaled_error = [](const std::vector<float>& a, const std::vector<float>& b) {
    double largest = 0;
    for (float v : b) largest = std::max(largest, double(std::fabs(v)));
    return test::max_relative_error(a, b, std::max(0.1 * largest, 1e-30));
  };
  for (const ConvGeometry& g : conv_cases()) {
    ConvData d = conv_data(g, 5);
    ConvResult got = run_conv(*be, g, d), want = run_conv(*ref, g, d);
    CHECK(scaled_error(got.y, want.y) <= 1e-5);
    CHECK(scaled_error(got.dx, want.dx) <= 1e-5);
    CHECK(scaled_error(got.dw, want.dw) <= 1e-5);
    CHECK(scaled_error(got.db, want.db) <= 1e-5);
  }
  // Softmax cross-entropy: loss and gradient.
  const int n = 37, k = 10;
  auto logits = test::random_tensor(size_t(n) * k, 77, -8.0f, 8.0f);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; i++) labels[i] = (i * 7) % k;
  std::vector<float> d_got(size_t(n) * k), d_want(size_t(n) * k);
  LossSums got =
      be->softmax_cross_entropy(logits.data(), labels.data(), n, k, d_got.data(), 1.0f / n);
  LossSums want =
      ref->softmax_cross_entropy(logits.data(), labels.data(), n, k, d_want.data(), 1.0f / n);
  CHECK(got.correct == want.correct);
  CHECK(std::fabs(got.loss - want.loss) <= 1e-5 * std::fabs(want.loss));
  CHECK(scaled_error(d_got, d_want) <= 1e-5);
  // Global average pooling.
  auto x = test::random_tensor(3 * 5 * 16, 8);
  std::vector<float> y_got(15), y_want(15);
  be->global_avg_pool_forward(x.data(), y_got.data(), 3, 5, 16);
  ref->global_avg_pool_forward(x.data(), y_want.data(), 3, 5, 16);
  CHECK(scaled_error(y_got, y_want) <= 1e-6);
}

TEST_CASE("portable softmax cross-entropy follows its specified order bit for bit",
          "[ops][portable]") {
  auto be = portable_backend("", 2);
  const int n = 29, k = 10;
  auto logits = test::random_tensor(size_t(n) * k, 41, -20.0f, 20.0f);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; i++) labels[i] = (i * 3) % k;
  std::vector<float> got(size_t(n) * k), want(size_t(n) * k);
  LossSums sums = be->softmax_cross_entropy(logits.data(), labels.data(), n, k, got.data(), 0.25f);
  double loss = 0;
  int64_t correct = 0;
  for (int q = 0; q < n; q++) {
    const float* z = logits.data() + size_t(q) * k;
    int best = 0;
    for (int j = 1; j < k; j++)
      if (z[j] > z[best]) best = j;
    float s = 0.0f;
    for (int j = 0; j < k; j++) s = s + portable::exp_f32(z[j] - z[best]);
    float sample = portable::log_f32(s) - (z[labels[q]] - z[best]);
    loss += double(sample);
    correct += best == labels[q];
    for (int j = 0; j < k; j++) {
      float p = portable::exp_f32(z[j] - z[best]) / s;
      want[size_t(q) * k + j] = (p - (j == labels[q] ? 1.0f : 0.0f)) * 0.25f;
    }
  }
  CHECK(same_bits(got, want));
  CHECK(sums.loss == loss);
  CHECK(sums.correct == correct);
}

TEST_CASE("portable max pool equals the reference bit for bit, ties included", "[ops][portable]") {
  auto ref = make_backend("reference", {});
  for (const PoolGeometry& g : {test::pool_geometry(9, 5, 30, 30, 2, 2, 2, 2, false),
                                test::pool_geometry(3, 4, 13, 13, 2, 2, 2, 2, false),
                                test::pool_geometry(2, 3, 11, 9, 3, 3, 2, 2, false),
                                test::pool_geometry(2, 3, 7, 8, 3, 3, 2, 2, true)}) {
    // Values on a coarse grid, so many windows hold ties.
    std::vector<float> x = test::random_tensor(size_t(g.n) * g.c * g.h * g.w, 17, -2.0f, 2.0f);
    for (float& v : x) v = std::round(v * 2.0f) / 2.0f;
    std::vector<float> dy = test::random_tensor(size_t(g.n) * g.c * g.oh * g.ow, 18);
    auto run = [&](Backend& be) {
      std::vector<float> y(dy.size()), dx(x.size());
      auto op = be.make_max_pool2d(g);
      op->forward(x.data(), y.data());
      op->backward(dy.data(), dx.data());
      return std::make_pair(y, dx);
    };
    for (int threads : {1, 3}) {
      auto be = portable_backend("", threads);
      auto got = run(*be), want = run(*ref);
      INFO("pool " << g.h << "x" << g.w << " window " << g.r << " same " << g.pad_bottom);
      CHECK(same_bits(got.first, want.first));
      CHECK(same_bits(got.second, want.second));
    }
  }
}

TEST_CASE("portable Adam follows Keras's formula with beta^t by exact squaring",
          "[ops][portable]") {
  auto be = portable_backend("", 1);
  auto ref = make_backend("reference", {});
  const size_t n = 1000;
  auto g = test::random_tensor(n, 31), w0 = test::random_tensor(n, 32);
  std::vector<float> w1 = w0, m1(n), v1(n), w2 = w0, m2(n), v2(n);
  for (int64_t step = 1; step <= 20; step++) {
    AdamParams p;
    p.step = step;
    be->adam_update(w1.data(), g.data(), m1.data(), v1.data(), n, p);
    ref->adam_update(w2.data(), g.data(), m2.data(), v2.data(), n, p);
  }
  CHECK(test::max_relative_error(w1, w2, 1e-3) <= 1e-6);
  CHECK(same_bits(m1, m2));  // the moment updates are the same float operations
}

TEST_CASE("portable exp and log are within 2 ulp and exact at the edges", "[ops][portable]") {
  auto ulps = [](float got, double want) {
    float w = float(want);
    double ulp =
        std::nextafter(std::fabs(w), std::numeric_limits<float>::infinity()) - std::fabs(w);
    return std::fabs(double(got) - want) / ulp;
  };
  double worst_exp = 0, worst_log = 0;
  for (int i = 0; i <= 200000; i++) {
    float x = -87.0f + 87.0f * float(i) / 200000.0f;  // softmax takes exp of z - max <= 0
    worst_exp = std::max(worst_exp, ulps(portable::exp_f32(x), std::exp(double(x))));
    float y = 1.0f + 15.0f * float(i) / 200000.0f;  // and log of a sum of exps in [1, K]
    worst_log = std::max(worst_log, ulps(portable::log_f32(y), std::log(double(y))));
  }
  INFO("worst exp error " << worst_exp << " ulp, worst log error " << worst_log << " ulp");
  CHECK(worst_exp <= 2.0);
  CHECK(worst_log <= 2.0);
  double worst_tanh = 0, worst_sigmoid = 0;
  for (int i = -100000; i <= 100000; i++) {
    float x = 10.0f * float(i) / 100000.0f;
    if (x != 0.0f)
      worst_tanh = std::max(worst_tanh, ulps(portable::tanh_f32(x), std::tanh(double(x))));
    worst_sigmoid =
        std::max(worst_sigmoid, ulps(portable::sigmoid_f32(x), 1.0 / (1.0 + std::exp(-double(x)))));
  }
  INFO("worst tanh error " << worst_tanh << " ulp, worst sigmoid error " << worst_sigmoid
                           << " ulp");
  CHECK(worst_tanh <= 4.0);
  CHECK(worst_sigmoid <= 3.0);
  CHECK(portable::exp_f32(0.0f) == 1.0f);
  CHECK(portable::log_f32(1.0f) == 0.0f);
  CHECK(portable::exp_f32(-100.0f) == 0.0f);
  CHECK(std::isinf(portable::exp_f32(100.0f)));
  CHECK(std::isinf(portable::log_f32(0.0f)));
  CHECK(std::isnan(portable::log_f32(-1.0f)));
  CHECK(std::isnan(portable::exp_f32(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::fabs(portable::log_f32(1e-40f) - std::log(1e-40)) < 1e-5 * 92.1);  // subnormal
}

TEST_CASE("an unknown or unsupported REPRO_ISA is refused with the valid names",
          "[ops][portable]") {
  CHECK_THROWS_WITH(portable_isa_path("neon"), Catch::Contains("use sse2, avx2 or avx512"));
  CHECK(portable_isa_path("sse2") == "sse2");
  CHECK(!portable_isa_path("").empty());
}

TEST_CASE(
    "portable dropout's backward applies its forward's flags, or draws them again, with the "
    "reference's bits",
    "[ops][portable][dropout]") {
  auto ref = make_backend("reference", {});
  const size_t count = 3001;  // odd: a pair split at the end
  const std::vector<float> x = test::random_tensor(count, 61, -2.0f, 2.0f);
  const StreamKey a = derive_key(42, Purpose::dropout, 1, 5),
                  b = derive_key(42, Purpose::dropout, 2, 5),
                  unseen = derive_key(42, Purpose::dropout, 9, 9);
  for (int threads : {1, 3}) {
    auto be = portable_backend("", threads);
    std::vector<float> y(count), want(count);
    // Two layers' forwards, then their backwards (and one whose forward was never seen).
    be->dropout_forward(x.data(), y.data(), count, a, 0.5f);
    ref->dropout_forward(x.data(), want.data(), count, a, 0.5f);
    CHECK(y == want);
    be->dropout_forward(x.data(), y.data(), count - 3, b, 0.125f);
    for (const auto& [key, n, rate] : {std::tuple{a, count, 0.5f}, std::tuple{b, count - 3, 0.125f},
                                       std::tuple{unseen, count, 0.5f}}) {
      std::vector<float> dx(count, -7.0f), dx_want(count, -7.0f);
      be->dropout_backward(x.data(), dx.data(), n, key, rate);
      ref->dropout_backward(x.data(), dx_want.data(), n, key, rate);
      CHECK(dx == dx_want);
    }
  }
}
