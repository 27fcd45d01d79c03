// tf.data's shuffle -> batch -> map -> prefetch in C++: a pure function of (seed, epoch, batch
// index) for any number of worker threads. Workers map batches in parallel; batches come out in
// order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace repro {

struct PipelineOptions {
  int64_t seed = 0;  // the run seed (shuffle keys come from the seed stream)
  bool shuffle = true;
  int64_t shuffle_buffer = 0;  // 0 = whole dataset
  bool reshuffle_each_iteration = true;
  int batch_size = 32;
  int out_h = 0, out_w = 0;  // bilinear resize target; 0 = source size
  int workers = 1;           // map threads
  int prefetch = 2;          // batches ready ahead of the consumer
  // [first, end) of a batch of n whose images are mapped (a rank's share; the others' pixels
  // are left unset, labels are all filled); empty: every image.
  std::function<std::pair<int, int>(int n)> mapped_images;
};

struct Batch {
  int64_t index = 0;       // batch index within the epoch
  int size = 0;            // images in this batch (the last one may be smaller)
  int c = 1;               // channels
  int h = 0, w = 0;        // image size after resize
  std::vector<float> x;    // (size, c, h, w) NCHW, values in [0, 1]
  std::vector<int32_t> y;  // (size)
};

// The order in which an epoch visits the dataset: tf.data's shuffle buffer algorithm.
// `buffer` 0 (or >= count) is a full permutation; `epoch` keys the draws (the pipeline passes 0
// for every epoch when reshuffle_each_iteration is false).
std::vector<int64_t> shuffle_order(int64_t count, int64_t buffer, int64_t seed, int64_t epoch);

// tf.image.resize(x, (out_h, out_w)) with its defaults (bilinear, antialias=False), i.e. TF's
// ResizeBilinear kernel with half_pixel_centers=True, computed in float32 the way TF does.
// x (in_h, in_w) -> y (out_h, out_w), one channel.
void resize_bilinear(const float* x, int in_h, int in_w, float* y, int out_h, int out_w);

class Pipeline {
 public:
  // `data` must outlive the pipeline (it is read, never copied). No thread runs before the
  // first start_epoch (or next, which starts epoch 0).
  Pipeline(const Dataset& data, const PipelineOptions& options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  int64_t batches_per_epoch() const;
  // Starts (or restarts) `epoch` (0-based) at batch `first_batch`: resume is exact.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // Fills the next batch of the current epoch; false when the epoch is done.
  bool next(Batch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repro
