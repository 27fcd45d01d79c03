// Micro-benchmark, its own executable (never part of ctest): forward + backward + Adam of the
// recipe's op sequence for 938 batches of 64 on the onednn backend (deterministic on and off)
// and the portable backend, 1 and 2 threads, with a per-op breakdown. Run: build/bench_recipe
// (REPRO_BENCH_BATCHES=N changes the batch count, REPRO_BENCH_BACKENDS=portable picks some).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "ops/op_test_util.h"

using namespace repro;

namespace {

using Clock = std::chrono::steady_clock;

struct Param {
  Array w, g, m, v;
};

struct Timer {
  std::map<std::string, double>& table;
  std::string name;
  Clock::time_point start = Clock::now();
  ~Timer() { table[name] += std::chrono::duration<double>(Clock::now() - start).count(); }
};

double bench(const std::string& backend, int threads, bool deterministic, int batches,
             std::map<std::string, double>& ops) {
  auto be = make_backend(backend, BackendOptions{threads, deterministic});
  const int n = 64;
  ConvGeometry c1 = test::conv_geometry(n, 1, 32, 32, 32, 3, 3, 1, 1, false, true, true);
  PoolGeometry p1 = test::pool_geometry(n, 32, 30, 30, 2, 2, 2, 2, false);
  ConvGeometry c2 = test::conv_geometry(n, 32, 15, 15, 32, 3, 3, 1, 1, false, true, true);
  PoolGeometry p2 = test::pool_geometry(n, 32, 13, 13, 2, 2, 2, 2, false);
  ConvGeometry c3 = test::conv_geometry(n, 32, 6, 6, 32, 3, 3, 1, 1, false, true, true);
  DenseGeometry d1{n, 32, 64, true, true}, d2{n, 64, 10, true, false};
  auto conv1 = be->make_conv2d(c1), conv2 = be->make_conv2d(c2), conv3 = be->make_conv2d(c3);
  auto pool1 = be->make_max_pool2d(p1), pool2 = be->make_max_pool2d(p2);
  auto dense1 = be->make_dense(d1), dense2 = be->make_dense(d2);

  std::vector<Param> params;
  auto param = [&](size_t size, uint32_t seed) {
    params.push_back({test::to_backend(*be, test::random_tensor(size, seed, -0.1f, 0.1f)),
                      be->alloc(size), be->alloc(size), be->alloc(size)});
    return params.size() - 1;
  };
  size_t w1 = param(test::weight_size(c1), 1), b1 = param(32, 2),
         w2 = param(test::weight_size(c2), 3), b2 = param(32, 4),
         w3 = param(test::weight_size(c3), 5), b3 = param(32, 6), w4 = param(64 * 32, 7),
         b4 = param(64, 8), w5 = param(10 * 64, 9), b5 = param(10, 10);
  auto P = [&](size_t i) { return params[i].w.data(); };
  auto G = [&](size_t i) { return params[i].g.data(); };

  // Activations x0 .. logits and their gradients.
  Array x0 = test::to_backend(*be, test::random_tensor(test::input_size(c1), 11, 0, 1));
  Array a1 = be->alloc(test::output_size(c1)), a2 = be->alloc(size_t(n) * 32 * 15 * 15);
  Array a3 = be->alloc(test::output_size(c2)), a4 = be->alloc(size_t(n) * 32 * 6 * 6);
  Array a5 = be->alloc(test::output_size(c3)), a6 = be->alloc(n * 32), a7 = be->alloc(n * 64);
  Array logits = be->alloc(n * 10);
  Array g1 = be->alloc(a1.size()), g2 = be->alloc(a2.size()), g3 = be->alloc(a3.size()),
        g4 = be->alloc(a4.size()), g5 = be->alloc(a5.size()), g6 = be->alloc(a6.size()),
        g7 = be->alloc(a7.size()), glogits = be->alloc(n * 10);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; i++) labels[i] = i % 10;

  timespec cpu0, cpu1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  auto start = Clock::now();
  for (int step = 1; step <= batches; step++) {
    {
      Timer t{ops, "conv forward"};
      conv1->forward(x0.data(), P(w1), P(b1), a1.data());
    }
    {
      Timer t{ops, "pool forward"};
      pool1->forward(a1.data(), a2.data());
    }
    {
      Timer t{ops, "conv forward"};
      conv2->forward(a2.data(), P(w2), P(b2), a3.data());
    }
    {
      Timer t{ops, "pool forward"};
      pool2->forward(a3.data(), a4.data());
    }
    {
      Timer t{ops, "conv forward"};
      conv3->forward(a4.data(), P(w3), P(b3), a5.data());
    }
    {
      Timer t{ops, "gap, dense, loss"};
      be->global_avg_pool_forward(a5.data(), a6.data(), n, 32, 16);
      dense1->forward(a6.data(), P(w4), P(b4), a7.data());
      dense2->forward(a7.data(), P(w5), P(b5), logits.data());
      be->softmax_cross_entropy(logits.data(), labels.data(), n, 10, glogits.data(), 1.0f / n);
      dense2->backward(a7.data(), P(w5), logits.data(), glogits.data(), g7.data(), G(w5), G(b5));
      dense1->backward(a6.data(), P(w4), a7.data(), g7.data(), g6.data(), G(w4), G(b4));
      be->global_avg_pool_backward(g6.data(), g5.data(), n, 32, 16);
    }
    {
      Timer t{ops, "conv3 backward"};
      conv3->backward(a4.data(), P(w3), a5.data(), g5.data(), g4.data(), G(w3), G(b3));
    }
    {
      Timer t{ops, "pool backward"};
      pool2->backward(g4.data(), g3.data());
    }
    {
      Timer t{ops, "conv2 backward"};
      conv2->backward(a2.data(), P(w2), a3.data(), g3.data(), g2.data(), G(w2), G(b2));
    }
    {
      Timer t{ops, "pool backward"};
      pool1->backward(g2.data(), g1.data());
    }
    {
      Timer t{ops, "conv1 backward"};
      conv1->backward(x0.data(), P(w1), a1.data(), g1.data(), nullptr, G(w1), G(b1));
    }
    {
      Timer t{ops, "adam"};
      for (Param& p : params)
        be->adam_update(p.w.data(), p.g.data(), p.m.data(), p.v.data(), p.w.size(),
                        AdamParams{0.001f, 0.9f, 0.999f, 1e-7f, step});
    }
  }
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  ops["(process cpu)"] = (cpu1.tv_sec - cpu0.tv_sec) + 1e-9 * (cpu1.tv_nsec - cpu0.tv_nsec);
  return wall;
}

}  // namespace

TEST_CASE("benchmark: the recipe's training step on onednn and portable", "[bench]") {
  int batches =
      std::getenv("REPRO_BENCH_BATCHES") ? std::atoi(std::getenv("REPRO_BENCH_BATCHES")) : 938;
  const std::string wanted =
      std::getenv("REPRO_BENCH_BACKENDS") ? std::getenv("REPRO_BENCH_BACKENDS") : "onednn,portable";
  struct Variant {
    const char* backend;
    bool deterministic;
    const char* label;
  };
  for (Variant v :
       {Variant{"onednn", true, "onednn deterministic"}, Variant{"onednn", false, "onednn fast"},
        Variant{"portable", true, "portable"}}) {
    if (wanted.find(v.backend) == std::string::npos) continue;
    for (int threads : {1, 2}) {
      std::map<std::string, double> ops;
      bench(v.backend, threads, v.deterministic, 5, ops);  // warm up: primitives, pages, caches
      ops.clear();
      double seconds = bench(v.backend, threads, v.deterministic, batches, ops);
      std::printf("%-21s threads %d: %.2f s for %d batches of 64 (%.2f ms/step)\n", v.label,
                  threads, seconds, batches, 1e3 * seconds / batches);
      for (auto& [name, s] : ops) std::printf("    %-16s %6.2f s\n", name.c_str(), s);
    }
  }
  SUCCEED();
}
