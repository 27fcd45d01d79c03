// The pipeline: tf.data's shuffle buffer, batching with a remainder, TF's bilinear resize,
// ordered parallel map (same bits for any worker count), exact resume, and clean shutdown.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/error.h"
#include "data/dataset.h"
#include "data/pipeline.h"
#include "idx_files.h"
#include "rng/seed_stream.h"

using namespace repro_test;

namespace {

// `count` 28x28 images of pseudo-random bytes (threefry, fixed key) with labels i % 10.
repro::Dataset random_dataset(int64_t count) {
  repro::Dataset d;
  d.count = count;
  d.rows = d.cols = 28;
  d.images.resize(static_cast<size_t>(count) * 28 * 28);
  const repro::StreamKey key{7, 11};
  for (size_t i = 0; i < d.images.size(); ++i) d.images[i] = repro::stream_bits(key, i) & 0xFF;
  d.labels = pattern_labels(static_cast<uint32_t>(count));
  return d;
}

std::vector<repro::Batch> run_epoch(repro::Pipeline& p, int64_t epoch, int64_t first = 0) {
  p.start_epoch(epoch, first);
  std::vector<repro::Batch> out;
  repro::Batch b;
  while (p.next(b)) out.push_back(b);
  return out;
}

bool same_bits(const std::vector<repro::Batch>& a, const std::vector<repro::Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].index != b[i].index || a[i].size != b[i].size || a[i].y != b[i].y) return false;
    if (a[i].x.size() != b[i].x.size() ||
        std::memcmp(a[i].x.data(), b[i].x.data(), a[i].x.size() * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("shuffle with a full buffer is a permutation") {
  const auto order = repro::shuffle_order(1000, 0, 42, 3);
  REQUIRE(order.size() == 1000);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) REQUIRE(sorted[i] == i);
  REQUIRE(order != sorted);
}

TEST_CASE(
    "shuffle with the same seed and epoch gives the same order and other epochs or seeds differ") {
  REQUIRE(repro::shuffle_order(500, 0, 42, 1) == repro::shuffle_order(500, 0, 42, 1));
  REQUIRE(repro::shuffle_order(500, 0, 42, 1) != repro::shuffle_order(500, 0, 42, 2));
  REQUIRE(repro::shuffle_order(500, 0, 42, 1) != repro::shuffle_order(500, 0, 43, 1));
  // A buffer larger than the data behaves like one of the data's size.
  REQUIRE(repro::shuffle_order(500, 9999, 42, 1) == repro::shuffle_order(500, 0, 42, 1));
}

TEST_CASE("shuffle with a buffer smaller than the data matches a hand-computed case") {
  // seed 42, epoch 0: draws j = 0..5 reduced mod the buffer fill are 1, 0, 0, 1, 1, 0
  // (bits(2j) | bits(2j+1) << 32 = 1150264549249037695 % 3 = 1, ... 2624299550327828811 % 1 = 0).
  // Buffer of 3 (logical order; the picked slot gets the front element, input enters at the back):
  //   [0 1 2] pick 1 -> emit 1, [0 2] + 3 -> [0 2 3]
  //   [0 2 3] pick 0 -> emit 0, [2 3] + 4 -> [2 3 4]
  //   [2 3 4] pick 0 -> emit 2, [3 4] + 5 -> [3 4 5]
  //   [3 4 5] pick 1 -> emit 4, front 3 moves into the hole: [3 5]
  //   [3 5]   pick 1 -> emit 5; [3] pick 0 -> emit 3
  REQUIRE(repro::shuffle_order(6, 3, 42, 0) == std::vector<int64_t>{1, 0, 2, 4, 5, 3});
  // A buffer of one keeps the input order; no element leaves before it was read.
  const auto one = repro::shuffle_order(50, 1, 42, 0);
  for (int64_t i = 0; i < 50; ++i) REQUIRE(one[i] == i);
  const auto small = repro::shuffle_order(200, 10, 42, 0);
  for (int64_t i = 0; i < 200; ++i) REQUIRE(small[i] < i + 10);
}

TEST_CASE("resize 2x2 to 4x4 equals TF half-pixel bilinear by hand") {
  // scale 0.5; src = (i + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25:
  // (lower, upper, lerp) = (0, 0, -), (0, 1, 0.25), (0, 1, 0.75), (1, 1, -).
  const float x[4] = {0, 4, 8, 12};  // (2, 2)
  float y[16];                       // (4, 4)
  repro::resize_bilinear(x, 2, 2, y, 4, 4);
  const float expected[16] = {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12};
  for (int i = 0; i < 16; ++i) REQUIRE(y[i] == expected[i]);
}

TEST_CASE("resize 28 to 32 corners and first interior pixel follow TF formula") {
  // scale 28/32 = 0.875; src(0) = -0.0625 -> (0, 0); src(1) = 0.8125 -> (0, 1, 0.8125);
  // src(31) = 27.0625 -> lower 27, upper min(28, 27) = 27.
  std::vector<float> x(28 * 28);  // (28, 28)
  for (int i = 0; i < 28 * 28; ++i) x[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  std::vector<float> y(32 * 32);  // (32, 32)
  repro::resize_bilinear(x.data(), 28, 28, y.data(), 32, 32);
  REQUIRE(y[0] == x[0]);
  REQUIRE(y[31] == x[27]);
  REQUIRE(y[31 * 32] == x[27 * 28]);
  REQUIRE(y[31 * 32 + 31] == x[27 * 28 + 27]);
  const float l = 0.8125f;
  const float top = x[0] + (x[1] - x[0]) * l;  // row 0, column 1
  REQUIRE(y[1] == top);
  const float bottom = x[28] + (x[29] - x[28]) * l;  // row 1
  REQUIRE(y[32 + 1] == top + (bottom - top) * l);
  REQUIRE(y[32] == x[0] + (x[28] - x[0]) * l);  // row 1, column 0
}

TEST_CASE("batches have the remainder size and the labels and pixels of the shuffled order") {
  const auto data = random_dataset(1000);
  repro::PipelineOptions o;
  o.seed = 5;
  o.batch_size = 64;
  o.out_h = o.out_w = 32;
  o.workers = 2;
  repro::Pipeline p(data, o);
  REQUIRE(p.batches_per_epoch() == 16);
  const auto batches = run_epoch(p, 2);
  REQUIRE(batches.size() == 16);
  for (size_t b = 0; b < 15; ++b) REQUIRE(batches[b].size == 64);
  REQUIRE(batches[15].size == 1000 - 15 * 64);
  REQUIRE(batches[15].x.size() == 40u * 32 * 32);

  // Batch 3, image 5 is dataset image order[3 * 64 + 5], divided by 255 and resized.
  const auto order = repro::shuffle_order(1000, 0, 5, 2);
  const int64_t k = order[3 * 64 + 5];
  std::vector<float> source(28 * 28), expected(32 * 32);
  for (int i = 0; i < 28 * 28; ++i)
    source[i] = static_cast<float>(data.images[k * 784 + i]) / 255.0f;
  repro::resize_bilinear(source.data(), 28, 28, expected.data(), 32, 32);
  REQUIRE(batches[3].y[5] == data.labels[k]);
  REQUIRE(std::memcmp(batches[3].x.data() + 5 * 1024, expected.data(), 1024 * sizeof(float)) == 0);
  REQUIRE(batches[3].h == 32);
  REQUIRE(batches[3].index == 3);
}

TEST_CASE("map with 1 and 4 workers gives bit-identical batches whatever the prefetch") {
  const auto data = random_dataset(700);
  repro::PipelineOptions o;
  o.seed = 42;
  o.batch_size = 32;
  o.out_h = o.out_w = 32;
  o.workers = 1;
  o.prefetch = 0;
  repro::Pipeline one(data, o);
  o.workers = 4;
  o.prefetch = 5;
  repro::Pipeline four(data, o);
  REQUIRE(same_bits(run_epoch(one, 0), run_epoch(four, 0)));
  REQUIRE(same_bits(run_epoch(one, 1), run_epoch(four, 1)));
}

TEST_CASE(
    "epochs reshuffle and without reshuffle every epoch repeats and without shuffle the order is "
    "kept") {
  const auto data = random_dataset(300);
  repro::PipelineOptions o;
  o.seed = 1;
  o.batch_size = 100;
  repro::Pipeline reshuffled(data, o);
  REQUIRE_FALSE(same_bits(run_epoch(reshuffled, 0), run_epoch(reshuffled, 1)));

  o.reshuffle_each_iteration = false;
  repro::Pipeline fixed(data, o);
  const auto epoch0 = run_epoch(fixed, 0);
  REQUIRE(same_bits(epoch0, run_epoch(fixed, 1)));
  REQUIRE(same_bits(epoch0, run_epoch(fixed, 7)));
  REQUIRE(same_bits(epoch0, run_epoch(reshuffled, 0)));  // epoch 0's key either way

  o.shuffle = false;
  repro::Pipeline ordered(data, o);
  const auto plain = run_epoch(ordered, 3);
  REQUIRE(plain[0].y[0] == 0);
  REQUIRE(plain[0].y[1] == 1);
  REQUIRE(plain[2].y[99] == 299 % 10);
  REQUIRE(plain[1].x[0] == static_cast<float>(data.images[100 * 784]) / 255.0f);
}

TEST_CASE(
    "resuming at batch k of an epoch yields the same batches as running from 0 and skipping k") {
  const auto data = random_dataset(500);
  repro::PipelineOptions o;
  o.seed = 9;
  o.batch_size = 64;
  o.out_h = o.out_w = 32;
  o.workers = 3;
  repro::Pipeline p(data, o);
  const auto full = run_epoch(p, 4);
  for (int64_t k : {0, 1, 5, 7, 8}) {
    const auto resumed = run_epoch(p, 4, k);
    REQUIRE(same_bits(std::vector<repro::Batch>(full.begin() + k, full.end()), resumed));
  }
  REQUIRE_THROWS_AS(p.start_epoch(4, 9), repro::InputError);
}

TEST_CASE("a pipeline destroyed mid-epoch stops its workers") {
  const auto data = random_dataset(2000);
  repro::PipelineOptions o;
  o.batch_size = 16;
  o.workers = 4;
  o.prefetch = 2;
  for (int round = 0; round < 20; ++round) {
    repro::Pipeline p(data, o);
    p.start_epoch(round);
    repro::Batch b;
    REQUIRE(p.next(b));
    REQUIRE(b.index == 0);
  }
  repro::Pipeline unused(data, o);  // never started: nothing to stop
}

TEST_CASE("real MNIST gives 937 batches of 64 and one of 32 and test 156 and one of 16") {
  const std::string mnist = real_mnist_dir();
  if (mnist.empty()) {
    REPRO_SKIP(
        "real MNIST not found: set REPRO_DATA_DIR (its mnist/ folder holds the four .gz files)");
  }
  repro::DataConfig config;
  config.dir = mnist;
  const auto splits = repro::load_splits(config);
  repro::PipelineOptions o;
  o.seed = 42;
  o.batch_size = 64;
  o.out_h = o.out_w = 32;
  o.workers = 2;
  repro::Pipeline train(splits.train, o);
  REQUIRE(train.batches_per_epoch() == 938);
  train.start_epoch(0, 936);
  repro::Batch b;
  REQUIRE(train.next(b));
  REQUIRE(b.size == 64);
  REQUIRE(train.next(b));
  REQUIRE(b.size == 32);
  REQUIRE(b.x.size() == 32u * 32 * 32);
  REQUIRE_FALSE(train.next(b));
  o.shuffle = false;
  repro::Pipeline test(splits.test, o);
  REQUIRE(test.batches_per_epoch() == 157);
  const auto batches = run_epoch(test, 0);
  REQUIRE(batches[155].size == 64);
  REQUIRE(batches[156].size == 16);
  REQUIRE(batches[0].y[0] == 7);
  std::set<int> seen;
  for (const auto& batch : batches) seen.insert(batch.y.begin(), batch.y.end());
  REQUIRE(seen.size() == 10);
}
