// The portable backend object: buffers in the kernels' layouts, threads over images and chunks,
// and the scalar ops (pooling, softmax cross-entropy, Adam). Every batch sum is a sum over fixed
// chunks of kChunk images, folded in chunk order, so the thread count decides only who computes
// a chunk. Compiled with -ffp-contract=off. Not here: channel blocks (activations stay NCHW).
#include "backend/portable/portable_backend.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "backend/portable/kernels.h"
#include "backend/portable/portable_math.h"
#include "backend/reference/reference_ops.h"
#include "backend/reference/tuned_host_backend.h"
#include "rng/dropout_bulk.h"

namespace repro {

namespace {

using portable::ConvShape;
using portable::Kernels;
using portable::kLanes;
using portable::padded;

constexpr int kMaxBlock = 8;  // the widest register tile of any ISA path (row slack)

// One scratch vector per OpenMP thread, grown on demand.
struct Scratch {
  std::vector<std::vector<float>> per_thread;
  float* get(size_t n) {
    auto& v = per_thread[size_t(omp_get_thread_num())];
    if (v.size() < n) v.resize(n);
    return v.data();
  }
  explicit Scratch(int threads) : per_thread(size_t(threads)) {}
};

// dy masked by relu'(y) (!(y > 0) passes nothing), or dy itself.
inline float masked(const float* dy, const float* y, bool relu, size_t i) {
  return (relu && !(y[i] > 0.0f)) ? 0.0f : dy[i];
}

// dy[i] = y[i] > 0 ? dy[i] : 0 over n elements (the op contract lets backward reuse dy).
void mask_in_place(float* dy, const float* y, size_t n, int threads) {
  const int parts = threads;
  const size_t per = (n + size_t(parts) - 1) / size_t(parts);
  parallel_for(threads, parts, [&](int t) {
    size_t begin = std::min(n, size_t(t) * per), end = std::min(n, begin + per);
    for (size_t i = begin; i < end; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  });
}

// One output element from the per-chunk sums at parts[c * stride + at] (c = 0 .. chunks-1):
// folded in chunk order into out[to] (p0, then + p1, ...), or with `unfolded` (chunk_grads, for
// the ranks) each chunk's sum copied to out[c * size + to].
inline void fold_chunk_sums(const float* parts, size_t stride, size_t at, int chunks, bool unfolded,
                            float* out, size_t size, size_t to) {
  if (unfolded) {
    for (int c = 0; c < chunks; c++) out[c * size + to] = parts[c * stride + at];
    return;
  }
  float acc = parts[at];
  for (int c = 1; c < chunks; c++) acc += parts[c * stride + at];
  out[to] = acc;
}

class PortableConv2d : public Conv2dOp {
 public:
  PortableConv2d(const ConvGeometry& g, const Kernels& kernels, int threads)
      : g_(g), kernels_(kernels), threads_(threads), scratch_(threads) {
    REPRO_CHECK(g.x_block == 1 && g.y_block == 1, "portable backend: conv takes plain NCHW only");
    REPRO_CHECK(g.pad_top < g.r && g.pad_left < g.s && g.pad_bottom < g.r && g.pad_right < g.s,
                "portable backend: conv padding must be smaller than the kernel");
    s_.c = g.c, s_.k = g.k, s_.r = g.r, s_.s = g.s, s_.oh = g.oh, s_.ow = g.ow, s_.h = g.h,
    s_.w = g.w, s_.stride_h = g.stride_h, s_.stride_w = g.stride_w;
    s_.kp = padded(g.k);
    s_.cp = padded(g.c);
    s_.hp = g.h + g.pad_top + g.pad_bottom;
    // Rows of at least 12 take the row kernels (vectors along the row); both kinds give the
    // same bits, they differ in speed only. Row slack: whole blocks and whole vectors.
    rows_forward_ = g.stride_w == 1 && g.ow >= 12;
    rows_backward_ = g.w >= 12;
    int ow_blocks = (g.ow + kMaxBlock - 1) / kMaxBlock * kMaxBlock;
    s_.wp = std::max({g.w + g.pad_left + g.pad_right, (ow_blocks - 1) * g.stride_w + g.s,
                      padded(g.ow) + g.s - 1});
    s_.hd = std::max(g.h + g.r - 1, (g.r - 1 - g.pad_top) + (g.oh - 1) * g.stride_h + 1);
    int w_blocks = (g.w + kMaxBlock - 1) / kMaxBlock * kMaxBlock;
    s_.wd = std::max({w_blocks + g.s - 1, (g.s - 1 - g.pad_left) + (g.ow - 1) * g.stride_w + 1,
                      padded(g.w) + g.s - 1});
    if (rows_forward_)
      wr_.assign(size_t(portable::padded_rows(g.k)) * g.c * g.r * g.s, 0.0f);
    else
      wt_.assign(size_t(g.c) * g.r * g.s * s_.kp, 0.0f);
    if (rows_backward_)
      w3_.assign(size_t(g.k) * portable::padded_rows(g.c) * g.r * g.s, 0.0f);
    else
      w2_.assign(size_t(g.k) * g.r * g.s * s_.cp, 0.0f);
    int chunks = chunk_count(g.n);
    dw_parts_.assign(size_t(chunks) * g.c * g.r * g.s * s_.kp, 0.0f);
    db_parts_.assign(size_t(chunks) * s_.kp, 0.0f);
  }

  // y = act(conv(x, w) + b), one image per task.
  void forward(const float* x, const float* w, const float* b, float* y) override {
    // wr (KR, C, R, S) <- w, or wt (C, R, S, KP) <- w (K, C, R, S); padding stays 0.
    const int taps = g_.r * g_.s;
    if (rows_forward_) {
      std::memcpy(wr_.data(), w, size_t(g_.k) * g_.c * taps * sizeof(float));
    } else {
      for (int k = 0; k < g_.k; k++)
        for (int c = 0; c < g_.c; c++)
          for (int t = 0; t < taps; t++)
            wt_[(size_t(c) * taps + t) * s_.kp + k] = w[(size_t(k) * g_.c + c) * taps + t];
    }
    const float* bias = g_.bias ? b : nullptr;
    parallel_for(threads_, g_.n, [&](int n) {
      float* xp = scratch_.get(padded_image_size());
      pad_image(x + size_t(n) * g_.c * g_.h * g_.w, xp);
      float* yn = y + size_t(n) * g_.k * g_.oh * g_.ow;
      if (rows_forward_)
        kernels_.conv_forward_rows(s_, xp, wr_.data(), bias, g_.relu, yn);
      else
        kernels_.conv_forward(s_, xp, wt_.data(), bias, g_.relu, yn);
    });
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    const int taps = g_.r * g_.s;
    const size_t part = size_t(g_.c) * taps * s_.kp;  // one chunk's dw (C, R, S, KP)
    const int chunks = chunk_count(g_.n);
    if (g_.relu) mask_in_place(dy, y, output_size(), threads_);
    // Per chunk: xp (count, C, HP, WP) and dyt (count, OH, OW, KP), then its partial sums.
    parallel_for(threads_, chunks, [&](int ci) {
      int first = ci * kChunk, count = std::min(kChunk, g_.n - first);
      size_t xp_size = padded_image_size(), dyt_size = size_t(g_.oh) * g_.ow * s_.kp;
      float* buffer = scratch_.get(count * (xp_size + dyt_size));
      float* xp = buffer;
      float* dyt = buffer + count * xp_size;
      for (int q = 0; q < count; q++) {
        int n = first + q;
        pad_image(x + size_t(n) * g_.c * g_.h * g_.w, xp + q * xp_size);
        // dyt (OH*OW, KP) <- dy (K, OH*OW) masked, in blocks of positions that stay in cache.
        float* dq = dyt + q * dyt_size;
        const int positions = g_.oh * g_.ow;
        const size_t image = size_t(n) * g_.k * positions;
        for (int p0 = 0; p0 < positions; p0 += 64) {
          int p1 = std::min(positions, p0 + 64);
          for (int p = p0; p < p1; p++) {
            float* row = dq + size_t(p) * s_.kp;
            for (int k = 0; k < g_.k; k++) row[k] = dy[image + size_t(k) * positions + p];
            for (int k = g_.k; k < s_.kp; k++) row[k] = 0.0f;
          }
        }
      }
      kernels_.conv_weight_grad(s_, count, xp, dyt, dw_parts_.data() + ci * part,
                                db_parts_.data() + size_t(ci) * s_.kp);
    });
    // Fold the chunks in order: dw = p0, then dw + p1, ...; transposed to (K, C, R, S). With
    // chunk_grads each chunk's sum is written unfolded (CHUNKS, K, C, R, S), for the ranks.
    const size_t w_size = size_t(g_.k) * g_.c * taps;
    for (int k = 0; k < g_.k; k++)
      for (int c = 0; c < g_.c; c++)
        for (int t = 0; t < taps; t++)
          fold_chunk_sums(dw_parts_.data(), part, (size_t(c) * taps + t) * s_.kp + k, chunks,
                          g_.chunk_grads, dw, w_size, (size_t(k) * g_.c + c) * taps + t);
    if (g_.bias && db)
      for (int k = 0; k < g_.k; k++)
        fold_chunk_sums(db_parts_.data(), s_.kp, k, chunks, g_.chunk_grads, db, g_.k, k);
    if (!dx) return;
    // w3 (K, CR, R, S) or w2 (K, R, S, CP) <- w (K, C, R, S).
    const int cr = portable::padded_rows(g_.c);
    for (int k = 0; k < g_.k; k++)
      for (int c = 0; c < g_.c; c++)
        for (int t = 0; t < taps; t++) {
          float v = w[(size_t(k) * g_.c + c) * taps + t];
          if (rows_backward_)
            w3_[(size_t(k) * cr + c) * taps + t] = v;
          else
            w2_[(size_t(k) * taps + t) * s_.cp + c] = v;
        }
    const int top = g_.r - 1 - g_.pad_top, left = g_.s - 1 - g_.pad_left;
    parallel_for(threads_, g_.n, [&](int n) {
      size_t plane = size_t(s_.hd) * s_.wd;
      float* dp = scratch_.get(g_.k * plane);
      std::memset(dp, 0, g_.k * plane * sizeof(float));
      for (int k = 0; k < g_.k; k++)
        for (int oh = 0; oh < g_.oh; oh++) {
          const float* from = dy + ((size_t(n) * g_.k + k) * g_.oh + oh) * g_.ow;
          float* to = dp + k * plane + size_t(top + oh * g_.stride_h) * s_.wd + left;
          if (g_.stride_w == 1) {
            std::memcpy(to, from, size_t(g_.ow) * sizeof(float));
          } else {
            for (int ow = 0; ow < g_.ow; ow++) to[ow * g_.stride_w] = from[ow];
          }
        }
      float* dxn = dx + size_t(n) * g_.c * g_.h * g_.w;
      if (rows_backward_)
        kernels_.conv_backward_data_rows(s_, dp, w3_.data(), dxn);
      else
        kernels_.conv_backward_data(s_, dp, w2_.data(), dxn);
    });
  }

 private:
  size_t padded_image_size() const { return size_t(g_.c) * s_.hp * s_.wp; }
  size_t output_size() const { return size_t(g_.n) * g_.k * g_.oh * g_.ow; }
  // xp (C, HP, WP) <- image (C, H, W) with zeros around it.
  void pad_image(const float* image, float* xp) const {
    std::memset(xp, 0, padded_image_size() * sizeof(float));
    for (int c = 0; c < g_.c; c++)
      for (int h = 0; h < g_.h; h++)
        std::memcpy(xp + (size_t(c) * s_.hp + g_.pad_top + h) * s_.wp + g_.pad_left,
                    image + (size_t(c) * g_.h + h) * g_.w, size_t(g_.w) * sizeof(float));
  }

  ConvGeometry g_;
  ConvShape s_;
  const Kernels& kernels_;
  int threads_;
  Scratch scratch_;
  bool rows_forward_ = false, rows_backward_ = false;  // which kernel kind runs
  std::vector<float> wt_;                              // (C, R, S, KP)
  std::vector<float> wr_;                              // (KR, C, R, S)
  std::vector<float> w2_;                              // (K, R, S, CP)
  std::vector<float> w3_;                              // (K, CR, R, S)
  std::vector<float> dw_parts_;                        // (chunks, C, R, S, KP)
  std::vector<float> db_parts_;                        // (chunks, KP)
};

class PortableDense : public DenseOp {
 public:
  PortableDense(const DenseGeometry& g, const Kernels& kernels, int threads)
      : g_(g), kernels_(kernels), threads_(threads), scratch_(threads) {
    wt_.assign(size_t(g.in) * padded(g.out), 0.0f);
    wp_.assign(size_t(g.out) * padded(g.in), 0.0f);
    dw_parts_.assign(size_t(chunk_count(g.n)) * g.out * padded(g.in), 0.0f);
    db_parts_.assign(size_t(chunk_count(g.n)) * g.out, 0.0f);
    dy_.assign(size_t(g.n) * g.out, 0.0f);
  }

  void forward(const float* x, const float* w, const float* b, float* y) override {
    const int outp = padded(g_.out);
    for (int o = 0; o < g_.out; o++)
      for (int i = 0; i < g_.in; i++) wt_[size_t(i) * outp + o] = w[size_t(o) * g_.in + i];
    const float* bias = g_.bias ? b : nullptr;
    parallel_for(threads_, g_.n, [&](int q) {
      kernels_.dense_forward(1, g_.in, g_.out, x + size_t(q) * g_.in, wt_.data(), bias, g_.relu,
                             y + size_t(q) * g_.out);
    });
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    const int inp = padded(g_.in);
    for (size_t i = 0; i < size_t(g_.n) * g_.out; i++) dy_[i] = masked(dy, y, g_.relu, i);
    const int chunks = chunk_count(g_.n);
    const size_t part = size_t(g_.out) * inp;
    parallel_for(threads_, chunks, [&](int ci) {
      int first = ci * kChunk, count = std::min(kChunk, g_.n - first);
      float* xp = scratch_.get(size_t(count) * inp);
      std::memset(xp, 0, size_t(count) * inp * sizeof(float));
      for (int q = 0; q < count; q++)
        std::memcpy(xp + size_t(q) * inp, x + size_t(first + q) * g_.in, g_.in * sizeof(float));
      kernels_.dense_weight_grad(count, g_.in, g_.out, xp, dy_.data() + size_t(first) * g_.out,
                                 dw_parts_.data() + ci * part,
                                 db_parts_.data() + size_t(ci) * g_.out);
    });
    const size_t w_size = size_t(g_.out) * g_.in;
    for (int o = 0; o < g_.out; o++)
      for (int i = 0; i < g_.in; i++)
        fold_chunk_sums(dw_parts_.data(), part, size_t(o) * inp + i, chunks, g_.chunk_grads, dw,
                        w_size, size_t(o) * g_.in + i);
    if (g_.bias && db)
      for (int o = 0; o < g_.out; o++)
        fold_chunk_sums(db_parts_.data(), g_.out, o, chunks, g_.chunk_grads, db, g_.out, o);
    if (!dx) return;
    for (int o = 0; o < g_.out; o++)
      for (int i = 0; i < g_.in; i++) wp_[size_t(o) * inp + i] = w[size_t(o) * g_.in + i];
    parallel_for(threads_, g_.n, [&](int q) {
      kernels_.dense_backward_data(1, g_.in, g_.out, dy_.data() + size_t(q) * g_.out, wp_.data(),
                                   dx + size_t(q) * g_.in);
    });
  }

 private:
  DenseGeometry g_;
  const Kernels& kernels_;
  int threads_;
  Scratch scratch_;
  std::vector<float> wt_;        // (IN, OUTP)
  std::vector<float> wp_;        // (OUT, INP)
  std::vector<float> dw_parts_;  // (chunks, OUT, INP)
  std::vector<float> db_parts_;  // (chunks, OUT)
  std::vector<float> dy_;        // (N, OUT) masked
};

class PortableMaxPool2d : public MaxPool2dOp {
 public:
  PortableMaxPool2d(const PoolGeometry& g, int threads)
      : g_(g), threads_(threads), argmax_(size_t(g.n) * g.c * g.oh * g.ow, -1) {
    REPRO_CHECK(g.x_block == 1 && g.y_block == 1,
                "portable backend: pooling takes plain NCHW only");
    one_ = g;
    one_.n = 1;
  }
  // Comparisons only (the first maximum in row-major order wins, as the reference); one image
  // per task. Windows without padding take a loop without bounds checks.
  void forward(const float* x, float* y) override {
    const bool unpadded = g_.pad_top == 0 && g_.pad_left == 0 &&
                          (g_.oh - 1) * g_.stride_h + g_.r <= g_.h &&
                          (g_.ow - 1) * g_.stride_w + g_.s <= g_.w;
    parallel_for(threads_, g_.n, [&](int n) {
      const float* xn = x + size_t(n) * in_size();
      float* yn = y + size_t(n) * out_size();
      int32_t* an = argmax_.data() + size_t(n) * out_size();
      if (!unpadded) return reference::max_pool2d_forward(one_, xn, yn, an);
      if (g_.r == 2 && g_.s == 2 && g_.stride_h == 2 && g_.stride_w == 2)
        return pool_2x2(xn, yn, an);
      for (int c = 0; c < g_.c; c++) {
        const float* plane = xn + size_t(c) * g_.h * g_.w;
        for (int oh = 0; oh < g_.oh; oh++)
          for (int ow = 0; ow < g_.ow; ow++) {
            int first = oh * g_.stride_h * g_.w + ow * g_.stride_w;
            float best = plane[first];
            int32_t best_index = first;
            for (int r = 0; r < g_.r; r++)
              for (int s = 0; s < g_.s; s++) {
                int at = first + r * g_.w + s;
                if (plane[at] > best) {
                  best = plane[at];
                  best_index = at;
                }
              }
            size_t o = (size_t(c) * g_.oh + oh) * g_.ow + ow;
            yn[o] = best;
            an[o] = best_index;
          }
      }
    });
  }
  // dx: sum from +0 of the dy routed to each cell, in output order (reference loops).
  void backward(const float* dy, float* dx) override {
    parallel_for(threads_, g_.n, [&](int n) {
      reference::max_pool2d_backward(one_, dy + size_t(n) * out_size(),
                                     argmax_.data() + size_t(n) * out_size(),
                                     dx + size_t(n) * in_size());
    });
  }

 private:
  size_t in_size() const { return size_t(g_.c) * g_.h * g_.w; }
  size_t out_size() const { return size_t(g_.c) * g_.oh * g_.ow; }
  // The 2x2, stride 2 window: candidates in row-major order, a later one wins only when strictly
  // greater (the same winner as the general loop). Each compare becomes an all-ones or all-zero
  // mask that picks bits: no branch (the winner is random), and the loop vectorizes.
  void pool_2x2(const float* x, float* y, int32_t* argmax) const {
    for (int c = 0; c < g_.c; c++) {
      const float* plane = x + size_t(c) * g_.h * g_.w;
      for (int oh = 0; oh < g_.oh; oh++) {
        const size_t out = (size_t(c) * g_.oh + oh) * g_.ow;
        pool_2x2_row(plane + size_t(2 * oh) * g_.w, g_.w, g_.ow, 2 * oh * g_.w, y + out,
                     argmax + out);
      }
    }
  }
  // One output row from input rows r0 and r0 + w; argmax as plane offsets from `base`.
  static void pool_2x2_row(const float* __restrict r0, int w, int ow, int32_t base,
                           float* __restrict y, int32_t* __restrict argmax) {
    const float* __restrict r1 = r0 + w;
    for (int o = 0; o < ow; o++) {
      uint32_t best = std::bit_cast<uint32_t>(r0[2 * o]);
      int32_t at = 0;
      const auto take = [&](float v, int32_t offset) {
        const uint32_t m = 0u - uint32_t{v > std::bit_cast<float>(best)};
        best = (std::bit_cast<uint32_t>(v) & m) | (best & ~m);
        at = (offset & int32_t(m)) | (at & ~int32_t(m));
      };
      take(r0[2 * o + 1], 1);
      take(r1[2 * o], w);
      take(r1[2 * o + 1], w + 1);
      y[o] = std::bit_cast<float>(best);
      argmax[o] = base + 2 * o + at;
    }
  }
  PoolGeometry g_, one_;
  int threads_;
  std::vector<int32_t> argmax_;  // (N, C, OH, OW)
};

// What is not overridden here (transposes, activation gradients, average pooling, batch
// normalization, augmentation, SGD, RMSprop, weight decay) is HostBackend's reference loops:
// plain float operations in a fixed order, no library transcendental, built without FMA
// contraction like this file (lib/CMakeLists.txt), one image or channel a task.
class PortableBackend : public TunedHostBackend {
 public:
  PortableBackend(const BackendOptions& options, const Kernels& kernels)
      : TunedHostBackend(options.threads > 0 ? options.threads : omp_get_max_threads()),
        kernels_(kernels) {}

  std::string name() const override { return "portable"; }
  bool chunk_grads_supported() const override { return true; }
  std::string describe() const override {
    return std::string("portable (") + kernels_.isa + " path, " + std::to_string(threads_) +
           " threads)";
  }

  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override {
    return std::make_unique<PortableConv2d>(g, kernels_, threads_);
  }
  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override {
    return std::make_unique<PortableMaxPool2d>(g, threads_);
  }
  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override {
    return std::make_unique<PortableDense>(g, kernels_, threads_);
  }

  // y = (sum over HW from +0 in order) / HW; dx = dy / HW.
  void global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) override {
    for (size_t p = 0; p < size_t(n) * c; p++) {
      float acc = 0.0f;
      for (int i = 0; i < hw; i++) acc += x[p * hw + i];
      y[p] = acc / float(hw);
    }
  }
  // The forward keeps its keep flags for the backward of the same key, which applies them
  // instead of drawing them again (the same bits either way).
  void dropout_forward(const float* x, float* y, size_t count, StreamKey key, float rate) override {
    uint8_t* keep = masks_.claim(key, count, rate, 1);
    in_ranges(count, [&](size_t begin, size_t end) {
      dropout_range(x, y, begin, end, key, rate, keep + begin);
    });
  }
  void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                        float rate) override {
    const uint8_t* keep = masks_.find(key, count, rate, 1);
    if (!keep) return dropout_forward(dy, dx, count, key, rate);  // drawn again
    in_ranges(count, [&](size_t begin, size_t end) {
      dropout_apply(dy + begin, dx + begin, end - begin, keep + begin, rate);
    });
  }

  // relu, leaky_relu and hard_sigmoid exactly (IEEE arithmetic only); sigmoid, tanh, elu,
  // softplus, gelu and silu through exp_f32, log_f32, tanh_f32 and erfc_f32 (portable_math.h),
  // not the C library: elu's expm1 as exp_f32(x) - 1 and softplus's log1p(t) as log_f32(1 + t),
  // a little less accurate near 0 and the same bits everywhere. The formulas are the reference's.
  void activation_forward(ActivationFn f, const float* x, float* y, size_t count) override {
    in_ranges(count, [&](size_t begin, size_t end) {
      if (f == ActivationFn::relu || f == ActivationFn::leaky_relu ||
          f == ActivationFn::hard_sigmoid)
        return reference::activation_forward(f, x, y, begin, end);
      for (size_t i = begin; i < end; i++) {
        const float v = x[i];
        switch (f) {
          case ActivationFn::sigmoid: y[i] = portable::sigmoid_f32(v); break;
          case ActivationFn::tanh: y[i] = portable::tanh_f32(v); break;
          case ActivationFn::elu: y[i] = v > 0.0f ? v : portable::exp_f32(v) - 1.0f; break;
          case ActivationFn::gelu: y[i] = 0.5f * v * portable::erfc_f32(-v * kSqrtHalf); break;
          case ActivationFn::gelu_approximate:
            y[i] = v * (0.5f *
                        (1.0f + portable::tanh_f32(kSqrt2OverPi * (v + kGeluCubic * (v * v * v)))));
            break;
          case ActivationFn::silu: y[i] = v * portable::sigmoid_f32(v); break;
          default:  // softplus
            y[i] = std::max(v, 0.0f) + portable::log_f32(1.0f + portable::exp_f32(-std::fabs(v)));
        }
      }
    });
  }
  // softplus, gelu and silu through the portable functions; the others are exact arithmetic on y
  // (reference).
  void activation_backward(ActivationFn f, const float* x, const float* y, const float* dy,
                           float* dx, size_t count) override {
    in_ranges(count, [&](size_t begin, size_t end) {
      if (f != ActivationFn::softplus && !activation_grad_needs_input(f))
        return reference::activation_backward(f, x, y, dy, dx, begin, end);
      for (size_t i = begin; i < end; i++) {
        switch (f) {
          case ActivationFn::softplus: dx[i] = dy[i] * (1.0f - portable::exp_f32(-y[i])); break;
          case ActivationFn::gelu: {
            const float v = x[i];
            const float cdf = 0.5f * portable::erfc_f32(-v * kSqrtHalf);
            const float pdf = kInvSqrt2Pi * portable::exp_f32(-0.5f * (v * v));
            dx[i] = dy[i] * (cdf + v * pdf);
            break;
          }
          case ActivationFn::gelu_approximate: {
            const float v = x[i];
            const float t = portable::tanh_f32(kSqrt2OverPi * (v + kGeluCubic * (v * v * v)));
            const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * (v * v));
            dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * ((1.0f - t * t) * du));
            break;
          }
          default: {  // silu
            const float s = portable::sigmoid_f32(x[i]);
            dx[i] = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
          }
        }
      }
    });
  }
  // Per sample, in float: m = max z; e_j = exp(z_j - m); s = sum of e_j from +0 in order;
  // loss = log(s) - (z_label - m); dlogits_j = (e_j / s - onehot_j) * grad_scale. The batch
  // loss is the sum of the samples' losses in sample order, in double.
  LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                                 float* dlogits, float grad_scale) override {
    LossSums sums;
    std::vector<float> e(static_cast<size_t>(k));
    for (int q = 0; q < n; q++) {
      const float* z = logits + size_t(q) * k;  // (K)
      int32_t label = labels[q];
      REPRO_CHECK(label >= 0 && label < k, "label " + std::to_string(label) + " of sample " +
                                               std::to_string(q) + " is outside [0, " +
                                               std::to_string(k) + ")");
      int best = 0;
      for (int j = 1; j < k; j++)
        if (z[j] > z[best]) best = j;
      float m = z[best];
      float s = 0.0f;
      for (int j = 0; j < k; j++) {
        e[j] = portable::exp_f32(z[j] - m);
        s += e[j];
      }
      float loss = portable::log_f32(s) - (z[label] - m);
      sums.loss += double(loss);
      if (best == label) sums.correct++;
      if (dlogits)
        for (int j = 0; j < k; j++)
          dlogits[size_t(q) * k + j] = (e[j] / s - (j == label ? 1.0f : 0.0f)) * grad_scale;
    }
    return sums;
  }

  // Keras 3 Adam in float32 as reference::adam_update, but beta^t by squaring in double (exact
  // IEEE operations) instead of the C library's pow.
  void adam_update(float* w, const float* g, float* m, float* v, size_t n,
                   const AdamParams& p) override {
    const portable::AdamScalars k =
        portable::adam_scalars(p.learning_rate, p.beta_1, p.beta_2, p.step);
    for (size_t i = 0; i < n; i++) {
      m[i] += (g[i] - m[i]) * k.one_minus_beta_1;
      v[i] += (g[i] * g[i] - v[i]) * k.one_minus_beta_2;
      w[i] -= (m[i] * k.alpha) / (std::sqrt(v[i]) + p.epsilon);
    }
  }

 private:
  const Kernels& kernels_;
  DropoutMasks masks_;
};

}  // namespace

std::string portable_isa_path(const std::string& isa) { return portable::select_kernels(isa).isa; }

std::unique_ptr<Backend> make_portable_backend(const BackendOptions& options) {
  const char* env = std::getenv("REPRO_ISA");
  const std::string isa = !options.isa.empty() ? options.isa : env ? env : "";
  return std::make_unique<PortableBackend>(options, portable::select_kernels(isa));
}

}  // namespace repro
