// The input pipeline of the recipe, `shuffle -> batch(drop_remainder=False) -> map(prepare,
// num_parallel_calls) -> prefetch`, as a pure function of (seed, epoch, batch index): workers map
// batches in parallel into a ring of slots and the consumer takes them strictly in index order.
// It does not augment, does not cache mapped batches across epochs, and never reads a clock.
#include "data/pipeline.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "data/image_decode.h"
#include "rng/seed_stream.h"

namespace repro {

namespace {

// tf.data's ShuffleDatasetOp (shuffle_dataset_op.cc, ShuffleDatasetBase::Iterator::
// GetNextInternal) for one pass over its input: the buffer is a ring of `buffer` slots holding
// the logical range [start, end). Before each output the buffer is topped up in input order at
// slot end % buffer. Then offset = R() % (end - start), the element at slot
// (start + offset) % buffer is emitted, the element at slot start % buffer is swapped into the
// hole, and start advances, so the next input lands exactly in the freed front slot.
// R is our seed stream's 64-bit draw j (rng/seed_stream.h), not TF's Philox (whose seeds a
// Keras run does not expose), so orders are tf.data's algorithm but not its exact numbers.
std::vector<int64_t> shuffle_ring(int64_t count, int64_t buffer, StreamKey key) {
  std::vector<int64_t> ring(static_cast<size_t>(buffer));
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(count));
  int64_t start = 0, end = 0, next_input = 0;
  for (uint64_t j = 0; static_cast<int64_t>(order.size()) < count; ++j) {
    while (next_input < count && end - start < buffer) {
      ring[end % buffer] = next_input++;
      ++end;
    }
    const uint64_t r = uint64_t{stream_bits(key, 2 * j)} | uint64_t{stream_bits(key, 2 * j + 1)}
                                                               << 32;
    const int64_t offset = static_cast<int64_t>(r % static_cast<uint64_t>(end - start));
    const int64_t index = (start + offset) % buffer;
    order.push_back(ring[index]);
    ring[index] = ring[start % buffer];
    ++start;
  }
  return order;
}

// One axis of TF's ResizeBilinear (resize_bilinear_op.cc, compute_interpolation_weights with
// HalfPixelScaler): scale = in / (float)out; src = (i + 0.5f) * scale - 0.5f in float;
// lower = max(floor(src), 0), upper = min(ceil(src), in - 1), lerp = src - floor(src).
// At the left edge src < 0 gives lower = upper = 0, so the (unclamped) lerp has no effect.
struct ResizeAxis {
  std::vector<int> lower, upper;  // (out)
  std::vector<float> lerp;        // (out)
};

ResizeAxis resize_axis(int in, int out) {
  ResizeAxis a;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int i = 0; i < out; ++i) {
    const float src = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
    const float src_floor = std::floor(src);
    a.lower.push_back(std::max(static_cast<int>(src_floor), 0));
    a.upper.push_back(std::min(static_cast<int>(std::ceil(src)), in - 1));
    a.lerp.push_back(src - src_floor);
  }
  return a;
}

// TF's compute_lerp, top = tl + (tr - tl) * x_lerp; bottom likewise; out = top + (bottom - top)
// * y_lerp, split into two passes: `top` and `bottom` depend only on (source row, output column),
// so each source row is interpolated horizontally once into `rows_x` and the vertical pass then
// runs over contiguous memory. Same operations on the same operands: the same bits as TF's
// per-pixel loop. No fused multiply-add (TF's x86 builds do not contract it and neither does g++
// in ISO C++ mode without -mfma).
// x (in_h, in_w), rows_x (in_h, out_w) scratch -> y (out_h, out_w)
void resize_apply(const float* x, int in_h, int in_w, const ResizeAxis& rows,
                  const ResizeAxis& cols, float* rows_x, float* y) {
  const size_t out_h = rows.lower.size(), out_w = cols.lower.size();
  for (int r = 0; r < in_h; ++r) {
    const float* in = x + static_cast<size_t>(r) * in_w;
    float* out = rows_x + r * out_w;
    for (size_t ox = 0; ox < out_w; ++ox) {
      const float left = in[cols.lower[ox]], right = in[cols.upper[ox]];
      out[ox] = left + (right - left) * cols.lerp[ox];
    }
  }
  for (size_t oy = 0; oy < out_h; ++oy) {
    const float* top = rows_x + static_cast<size_t>(rows.lower[oy]) * out_w;
    const float* bottom = rows_x + static_cast<size_t>(rows.upper[oy]) * out_w;
    const float y_lerp = rows.lerp[oy];
    float* out = y + oy * out_w;
    for (size_t ox = 0; ox < out_w; ++ox) out[ox] = top[ox] + (bottom[ox] - top[ox]) * y_lerp;
  }
}

}  // namespace

std::vector<int64_t> shuffle_order(int64_t count, int64_t buffer, int64_t seed, int64_t epoch) {
  if (count <= 0) return {};
  if (buffer <= 0 || buffer > count) buffer = count;  // a larger ring behaves like one of `count`
  const StreamKey key =
      derive_key(static_cast<uint64_t>(seed), Purpose::shuffle, static_cast<uint32_t>(epoch), 0);
  return shuffle_ring(count, buffer, key);
}

void resize_bilinear(const float* x, int in_h, int in_w, float* y, int out_h, int out_w) {
  if (in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0) {
    throw InputError("resize: sizes must be positive, got " + std::to_string(in_h) + "x" +
                     std::to_string(in_w) + " -> " + std::to_string(out_h) + "x" +
                     std::to_string(out_w));
  }
  std::vector<float> rows_x(static_cast<size_t>(in_h) * out_w);
  resize_apply(x, in_h, in_w, resize_axis(in_h, out_h), resize_axis(in_w, out_w), rows_x.data(), y);
}

struct Pipeline::Impl {
  const Dataset& data;
  PipelineOptions options;
  int out_h = 0, out_w = 0;
  bool resize = false;
  ResizeAxis rows, cols;

  int64_t epoch = -1;
  int64_t batches = 0;
  std::vector<int64_t> order;  // (count) dataset index of each position of the epoch

  // Worker state. Batch b lives in slots[b % window] from its claim until the consumer takes it.
  struct Slot {
    Batch batch;
    bool ready = false;
  };
  std::mutex mu;
  std::condition_variable work_cv, ready_cv;
  std::vector<std::thread> threads;
  std::vector<Slot> slots;
  int64_t next_claim = 0;  // next batch a worker will map
  int64_t next_out = 0;    // next batch the consumer takes
  bool stop = false;
  std::exception_ptr error;

  Impl(const Dataset& d, const PipelineOptions& o) : data(d), options(o) {}

  // `prepare` of the recipe on batch b: uint8 -> float32 / 255, channels first, resize.
  // scratch holds one source channel plane as float and its horizontally resized rows.
  void map_batch(int64_t b, Batch& out, std::vector<float>& scratch) const {
    const int64_t first = b * options.batch_size;
    const int n = static_cast<int>(std::min<int64_t>(options.batch_size, data.count - first));
    const int c = data.channels;
    const size_t in_pixels = static_cast<size_t>(data.rows) * data.cols;
    const size_t out_pixels = static_cast<size_t>(out_h) * out_w;
    const size_t in_image = in_pixels * c, out_image = out_pixels * c;
    out.index = b;
    out.size = n;
    out.c = c;
    out.h = out_h;
    out.w = out_w;
    out.x.resize(n * out_image);  // (n, c, out_h, out_w)
    out.y.resize(n);              // (n)
    scratch.resize(in_pixels + static_cast<size_t>(data.rows) * out_w);
    float* source = scratch.data();              // (rows, cols)
    float* rows_x = scratch.data() + in_pixels;  // (rows, out_w)
    for (int i = 0; i < n; ++i) out.y[i] = data.labels[order[first + i]];
    const auto [begin, end] =
        options.mapped_images ? options.mapped_images(n) : std::pair<int, int>{0, n};
    if (data.is_encoded()) {
      for (int i = begin; i < end; ++i)
        map_encoded(order[first + i], out.x.data() + i * out_image, scratch);
      return;
    }
    if (data.is_table()) {  // a table's rows go in as they are
      for (int i = begin; i < end; ++i) {
        const float* row = data.features.data() + order[first + i] * in_image;
        std::copy(row, row + in_image, out.x.data() + i * out_image);
      }
      return;
    }
    for (int i = begin; i < end; ++i) {
      const int64_t k = order[first + i];
      // The shuffled order reads images from all over a 47 MB array: ask for the next one early.
      if (i + 1 < end) {
        const uint8_t* next = data.images.data() + order[first + i + 1] * in_image;
        for (size_t line = 0; line < in_image; line += 64) __builtin_prefetch(next + line);
      }
      const uint8_t* src = data.images.data() + k * in_image;  // (rows, cols, c)
      for (int ch = 0; ch < c; ++ch) {
        float* plane = out.x.data() + i * out_image + ch * out_pixels;
        float* dst = resize ? source : plane;
        // tf.cast(x, tf.float32) / 255.0: one correctly rounded float division per value.
        for (size_t p = 0; p < in_pixels; ++p)
          dst[p] = static_cast<float>(src[p * c + ch]) / 255.0f;
        // tf.image.resize works on each channel alone: the same weights for every channel.
        if (resize) resize_apply(source, data.rows, data.cols, rows, cols, rows_x, plane);
      }
    }
  }

  // An image file of the dataset: decoded (the same bits on any thread: a pure function of its
  // bytes), scaled to [0, 1], each channel resized from the file's own size to out_h x out_w.
  void map_encoded(int64_t k, float* image, std::vector<float>& scratch) const {
    const DecodedImage d = decode_image(data.encoded[k], data.names[k], data.channels);
    const size_t in_pixels = static_cast<size_t>(d.rows) * d.cols;
    const size_t out_pixels = static_cast<size_t>(out_h) * out_w;
    const bool same = d.rows == out_h && d.cols == out_w;
    const ResizeAxis r = same ? ResizeAxis{} : resize_axis(d.rows, out_h);
    const ResizeAxis c = same ? ResizeAxis{} : resize_axis(d.cols, out_w);
    scratch.resize(in_pixels + static_cast<size_t>(d.rows) * out_w);
    float* source = scratch.data();
    float* rows_x = scratch.data() + in_pixels;
    for (int ch = 0; ch < data.channels; ++ch) {
      float* plane = image + ch * out_pixels;
      float* dst = same ? plane : source;
      for (size_t p = 0; p < in_pixels; ++p)
        dst[p] = static_cast<float>(d.pixels[p * data.channels + ch]) / 255.0f;
      if (!same) resize_apply(source, d.rows, d.cols, r, c, rows_x, plane);
    }
  }

  void worker() {
    std::vector<float> scratch;
    while (true) {
      int64_t b = 0;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] {
          return stop || (next_claim < batches &&
                          next_claim < next_out + static_cast<int64_t>(slots.size()));
        });
        if (stop) return;
        b = next_claim++;
      }
      Slot& slot = slots[b % slots.size()];
      try {
        map_batch(b, slot.batch, scratch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        slot.ready = true;
      }
      ready_cv.notify_all();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    work_cv.notify_all();
    for (auto& t : threads) t.join();
    threads.clear();
    stop = false;
  }
};

Pipeline::Pipeline(const Dataset& data, const PipelineOptions& options)
    : impl_(std::make_unique<Impl>(data, options)) {
  Impl& p = *impl_;
  const size_t values = static_cast<size_t>(data.count) * data.image_size();
  const bool arrays_match =
      data.is_encoded() ? data.encoded.size() == static_cast<size_t>(data.count) &&
                              data.names.size() == data.encoded.size() && data.images.empty()
      : data.is_table() ? data.features.size() == values && data.images.empty()
                        : data.images.size() == values;
  if (data.count <= 0 || data.rows <= 0 || data.cols <= 0 || data.channels <= 0 || !arrays_match ||
      data.labels.size() != static_cast<size_t>(data.count)) {
    throw InputError("pipeline: the dataset is empty or its arrays do not match its count");
  }
  if (options.batch_size <= 0) {
    throw InputError("data.batch_size must be positive, got " + std::to_string(options.batch_size));
  }
  if ((options.out_h == 0) != (options.out_w == 0) || options.out_h < 0 || options.out_w < 0) {
    throw InputError("data.resize must be [h, w] with both positive, or [0, 0] to keep the size");
  }
  p.out_h = options.out_h > 0 ? options.out_h : data.rows;
  p.out_w = options.out_w > 0 ? options.out_w : data.cols;
  p.resize = p.out_h != data.rows || p.out_w != data.cols;
  if (data.is_table() && p.resize)
    throw InputError("pipeline: a table's rows cannot be resized (data.resize does not apply)");
  if (p.resize) {
    p.rows = resize_axis(data.rows, p.out_h);
    p.cols = resize_axis(data.cols, p.out_w);
  }
  p.batches = (data.count + options.batch_size - 1) / options.batch_size;
  if (p.options.workers <= 0) {
    p.options.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  p.slots.resize(static_cast<size_t>(p.options.workers + std::max(p.options.prefetch, 0)));
}

Pipeline::~Pipeline() { impl_->stop_workers(); }

int64_t Pipeline::batches_per_epoch() const { return impl_->batches; }

void Pipeline::start_epoch(int64_t epoch, int64_t first_batch) {
  Impl& p = *impl_;
  if (epoch < 0 || first_batch < 0 || first_batch > p.batches) {
    throw InputError("pipeline position (epoch " + std::to_string(epoch) + ", batch " +
                     std::to_string(first_batch) + ") is outside an epoch of " +
                     std::to_string(p.batches) +
                     " batches; is the checkpoint from another config?");
  }
  p.stop_workers();
  if (epoch != p.epoch || p.order.empty()) {
    const bool same_order = !p.options.reshuffle_each_iteration && !p.order.empty();
    if (!p.options.shuffle) {
      p.order.resize(static_cast<size_t>(p.data.count));
      for (int64_t i = 0; i < p.data.count; ++i) p.order[i] = i;
    } else if (!same_order) {
      const int64_t key_epoch = p.options.reshuffle_each_iteration ? epoch : 0;
      p.order = shuffle_order(p.data.count, p.options.shuffle_buffer, p.options.seed, key_epoch);
    }
  }
  p.epoch = epoch;
  p.next_claim = p.next_out = first_batch;
  p.error = nullptr;
  for (auto& s : p.slots) s.ready = false;
  for (int i = 0; i < p.options.workers; ++i) p.threads.emplace_back([&p] { p.worker(); });
}

bool Pipeline::next(Batch& out) {
  Impl& p = *impl_;
  if (p.epoch < 0) start_epoch(0, 0);
  std::unique_lock<std::mutex> lock(p.mu);
  if (p.next_out >= p.batches) return false;
  auto& slot = p.slots[p.next_out % p.slots.size()];
  p.ready_cv.wait(lock, [&] { return slot.ready || p.error; });
  if (p.error) std::rethrow_exception(p.error);
  std::swap(out, slot.batch);  // the slot keeps `out`'s old buffers for reuse
  slot.ready = false;
  ++p.next_out;
  lock.unlock();
  p.work_cv.notify_all();
  return true;
}

}  // namespace repro
