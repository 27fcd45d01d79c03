// HostBackend: host memory and the reference loops, split over the backend's threads.
#include "backend/reference/host_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/reference/reference_ops.h"

namespace repro {

namespace {

// conv2d or dense by the reference loops, for one geometry.
template <class Geometry,
          void (*Forward)(const Geometry&, const float*, const float*, const float*, float*),
          void (*Backward)(const Geometry&, const float*, const float*, const float*, const float*,
                           float*, float*, float*)>
class ReferenceWeighted : public WeightedOp {
 public:
  explicit ReferenceWeighted(const Geometry& g) : g_(g) {}
  void forward(const float* x, const float* w, const float* b, float* y) override {
    Forward(g_, x, w, b, y);
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    Backward(g_, x, w, y, dy, dx, dw, db);
  }

 private:
  Geometry g_;
};
using ReferenceConv2d =
    ReferenceWeighted<ConvGeometry, reference::conv2d_forward, reference::conv2d_backward>;
using ReferenceDense =
    ReferenceWeighted<DenseGeometry, reference::dense_forward, reference::dense_backward>;

class ReferenceMaxPool2d : public MaxPool2dOp {
 public:
  explicit ReferenceMaxPool2d(const PoolGeometry& g)
      : g_(g), argmax_(size_t(g.n) * g.c * g.oh * g.ow, -1) {}
  void forward(const float* x, float* y) override {
    reference::max_pool2d_forward(g_, x, y, argmax_.data());
  }
  void backward(const float* dy, float* dx) override {
    reference::max_pool2d_backward(g_, dy, argmax_.data(), dx);
  }

 private:
  PoolGeometry g_;
  std::vector<int32_t> argmax_;  // (N, C, OH, OW) winner of the last forward()
};

}  // namespace

Array HostBackend::alloc(size_t n) {
  size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  if (bytes == 0) bytes = 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p)
    throw RuntimeError(name() + " backend: out of memory allocating " + std::to_string(bytes) +
                       " bytes");
  std::memset(p, 0, bytes);
  return Array(std::shared_ptr<float>(p, [](float* q) { std::free(q); }), n);
}

void HostBackend::upload(const float* host, float* dst, size_t n) {
  if (n) std::memcpy(dst, host, n * sizeof(float));
}

void HostBackend::download(const float* src, float* host, size_t n) {
  if (n) std::memcpy(host, src, n * sizeof(float));
}

std::unique_ptr<Conv2dOp> HostBackend::make_conv2d(const ConvGeometry& g) {
  REPRO_CHECK(!g.chunk_grads, name() + " backend: conv2d sums weight gradients in sample order");
  return std::make_unique<ReferenceConv2d>(g);
}

std::unique_ptr<MaxPool2dOp> HostBackend::make_max_pool2d(const PoolGeometry& g) {
  return std::make_unique<ReferenceMaxPool2d>(g);
}

std::unique_ptr<DenseOp> HostBackend::make_dense(const DenseGeometry& g) {
  REPRO_CHECK(!g.chunk_grads, name() + " backend: dense sums weight gradients in sample order");
  return std::make_unique<ReferenceDense>(g);
}

namespace {

class HostDepthwiseConv2d : public Conv2dOp {
 public:
  HostDepthwiseConv2d(const ConvGeometry& g, int threads) : g_(g), threads_(threads) {}
  void forward(const float* x, const float* w, const float* b, float* y) override {
    parallel_for(threads_, g_.n,
                 [&](int n) { reference::depthwise_conv2d_forward(g_, x, w, b, y, n, n + 1); });
  }
  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    if (dx)
      parallel_for(threads_, g_.n, [&](int n) {
        reference::depthwise_conv2d_input_grad(g_, w, y, dy, dx, n, n + 1);
      });
    parallel_for(threads_, g_.k, [&](int k) {
      reference::depthwise_conv2d_param_grads(g_, x, y, dy, dw, db, k, k + 1);
    });
  }

 private:
  ConvGeometry g_;
  int threads_;
};

}  // namespace

std::unique_ptr<Conv2dOp> HostBackend::make_depthwise_conv2d(const ConvGeometry& g) {
  REPRO_CHECK(
      g.depth_multiplier > 0 && g.k == g.c * g.depth_multiplier && g.x_block == 1 && g.y_block == 1,
      "depthwise_conv2d: k = c * depth_multiplier, plain layouts");
  return std::make_unique<HostDepthwiseConv2d>(g, threads_);
}

void HostBackend::global_avg_pool_forward(const float* x, float* y, int n, int c, int hw) {
  reference::global_avg_pool_forward(x, y, n, c, hw);
}

void HostBackend::global_avg_pool_backward(const float* dy, float* dx, int n, int c, int hw) {
  reference::global_avg_pool_backward(dy, dx, n, c, hw);
}

void HostBackend::nchw_to_nhwc(const float* x, float* y, int n, int c, int hw) {
  const size_t image = size_t(c) * hw;
  parallel_for(threads_, n,
               [&](int b) { reference::nchw_to_nhwc(x + b * image, y + b * image, 1, c, hw); });
}

void HostBackend::nhwc_to_nchw(const float* x, float* y, int n, int c, int hw) {
  const size_t image = size_t(c) * hw;
  parallel_for(threads_, n,
               [&](int b) { reference::nhwc_to_nchw(x + b * image, y + b * image, 1, c, hw); });
}

void HostBackend::avg_pool2d_forward(const PoolGeometry& g, const float* x, float* y) {
  PoolGeometry one = g;
  one.n = 1;
  const size_t in = size_t(g.c) * g.h * g.w, out = size_t(g.c) * g.oh * g.ow;
  parallel_for(threads_, g.n,
               [&](int b) { reference::avg_pool2d_forward(one, x + b * in, y + b * out); });
}

void HostBackend::avg_pool2d_backward(const PoolGeometry& g, const float* dy, float* dx) {
  PoolGeometry one = g;
  one.n = 1;
  const size_t in = size_t(g.c) * g.h * g.w, out = size_t(g.c) * g.oh * g.ow;
  parallel_for(threads_, g.n,
               [&](int b) { reference::avg_pool2d_backward(one, dy + b * out, dx + b * in); });
}

void HostBackend::affine_forward(const AffineGeometry& g, const float* transforms, const float* x,
                                 float* y) {
  parallel_for(threads_, g.n,
               [&](int b) { reference::affine_forward(g, transforms, x, y, b, b + 1); });
}

void HostBackend::affine_backward(const AffineGeometry& g, const float* transforms, const float* dy,
                                  float* dx) {
  parallel_for(threads_, g.n,
               [&](int b) { reference::affine_backward(g, transforms, dy, dx, b, b + 1); });
}

void HostBackend::dropout_forward(const float* x, float* y, size_t count, StreamKey key,
                                  float rate) {
  in_ranges(count, [&](size_t begin, size_t end) {
    reference::dropout_forward(x, y, begin, end, key, rate);
  });
}

void HostBackend::dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                                   float rate) {
  in_ranges(count, [&](size_t begin, size_t end) {
    reference::dropout_backward(dy, dx, begin, end, key, rate);
  });
}

void HostBackend::activation_forward(ActivationFn f, const float* x, float* y, size_t count) {
  in_ranges(count,
            [&](size_t begin, size_t end) { reference::activation_forward(f, x, y, begin, end); });
}

void HostBackend::activation_backward(ActivationFn f, const float* x, const float* y,
                                      const float* dy, float* dx, size_t count) {
  in_ranges(count, [&](size_t begin, size_t end) {
    reference::activation_backward(f, x, y, dy, dx, begin, end);
  });
}

// Each element depends on its own index only: any split over threads gives the same bits.
void HostBackend::merge_forward(MergeFn f, const std::vector<const float*>& xs, float* y,
                                size_t count) {
  const float inputs = static_cast<float>(xs.size());
  in_ranges(count, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float v = xs[0][i];
      if (f == MergeFn::subtract) {
        v = v - xs[1][i];
      } else {
        for (size_t k = 1; k < xs.size(); ++k) {
          const float x = xs[k][i];
          if (f == MergeFn::multiply) {
            v = v * x;
          } else if (f == MergeFn::maximum) {
            v = std::max(v, x);
          } else if (f == MergeFn::minimum) {
            v = std::min(v, x);
          } else {
            v = v + x;
          }
        }
        if (f == MergeFn::average) v = v / inputs;
      }
      y[i] = v;
    }
  });
}

void HostBackend::merge_backward(MergeFn f, const std::vector<const float*>& xs, const float* dy,
                                 const std::vector<float*>& dxs, size_t count) {
  const float inputs = static_cast<float>(xs.size());
  if (f == MergeFn::maximum || f == MergeFn::minimum) {
    // JAX's lax.max / lax.min JVP (_balanced_eq): side a of z = max(a, b) gets
    // g * (a == z ? 1 : 0) / (b == z ? 2 : 1); back through the fold m_k = max(m_{k-1}, x_k).
    const auto share = [](float a, float z, float b) {
      return (a == z ? 1.0f : 0.0f) / (b == z ? 2.0f : 1.0f);
    };
    in_ranges(count, [&](size_t begin, size_t end) {
      std::vector<float> m(xs.size());
      for (size_t i = begin; i < end; ++i) {
        m[0] = xs[0][i];
        for (size_t k = 1; k < xs.size(); ++k)
          m[k] =
              f == MergeFn::maximum ? std::max(m[k - 1], xs[k][i]) : std::min(m[k - 1], xs[k][i]);
        float g = dy[i];
        for (size_t k = xs.size() - 1; k >= 1; --k) {
          if (dxs[k]) dxs[k][i] = g * share(xs[k][i], m[k], m[k - 1]);
          g = g * share(m[k - 1], m[k], xs[k][i]);
        }
        if (dxs[0]) dxs[0][i] = g;
      }
    });
    return;
  }
  in_ranges(count, [&](size_t begin, size_t end) {
    for (size_t k = 0; k < dxs.size(); ++k) {
      float* dx = dxs[k];
      if (!dx) continue;
      for (size_t i = begin; i < end; ++i) {
        float g = dy[i];
        if (f == MergeFn::subtract && k == 1) g = -g;
        if (f == MergeFn::average) g = g / inputs;
        if (f == MergeFn::multiply) {
          float others = 1.0f;
          bool first = true;
          for (size_t j = 0; j < xs.size(); ++j) {
            if (j == k) continue;
            others = first ? xs[j][i] : others * xs[j][i];
            first = false;
          }
          g = g * others;
        }
        dx[i] = g;
      }
    }
  });
}

void HostBackend::concat_forward(const std::vector<const float*>& xs,
                                 const std::vector<int>& channels, int n, int hw, float* y) {
  int total = 0;
  for (int c : channels) total += c;
  parallel_for(threads_, n, [&](int b) {
    float* out = y + size_t(b) * total * hw;
    for (size_t k = 0; k < xs.size(); ++k) {
      const size_t part = size_t(channels[k]) * hw;
      std::copy(xs[k] + size_t(b) * part, xs[k] + size_t(b + 1) * part, out);
      out += part;
    }
  });
}

void HostBackend::concat_backward(const float* dy, const std::vector<float*>& dxs,
                                  const std::vector<int>& channels, int n, int hw) {
  int total = 0;
  for (int c : channels) total += c;
  parallel_for(threads_, n, [&](int b) {
    const float* in = dy + size_t(b) * total * hw;
    for (size_t k = 0; k < dxs.size(); ++k) {
      const size_t part = size_t(channels[k]) * hw;
      if (dxs[k]) std::copy(in, in + part, dxs[k] + size_t(b) * part);
      in += part;
    }
  });
}

// One plane per task: each output depends on its own plane only.
void HostBackend::global_max_pool_forward(const float* x, float* y, int n, int c, int hw) {
  parallel_for(threads_, n * c, [&](int plane) {
    const float* p = x + size_t(plane) * hw;
    float m = p[0];
    for (int i = 1; i < hw; ++i) m = std::max(m, p[i]);
    y[plane] = m;
  });
}

void HostBackend::global_max_pool_backward(const float* x, const float* y, const float* dy,
                                           float* dx, int n, int c, int hw) {
  parallel_for(threads_, n * c, [&](int plane) {
    const float* p = x + size_t(plane) * hw;
    float* d = dx + size_t(plane) * hw;
    int ties = 0;
    for (int i = 0; i < hw; ++i) ties += p[i] == y[plane] ? 1 : 0;
    const float share = dy[plane] / static_cast<float>(ties);
    for (int i = 0; i < hw; ++i) d[i] = p[i] == y[plane] ? share : 0.0f;
  });
}

void HostBackend::zero_pad2d_forward(const float* x, float* y, int n, int c, int h, int w,
                                     const std::array<int, 4>& pad) {
  const int oh = h + pad[0] + pad[1], ow = w + pad[2] + pad[3];
  parallel_for(threads_, n * c, [&](int plane) {
    float* out = y + size_t(plane) * oh * ow;
    std::fill(out, out + size_t(oh) * ow, 0.0f);
    for (int r = 0; r < h; ++r)
      std::copy(x + (size_t(plane) * h + r) * w, x + (size_t(plane) * h + r + 1) * w,
                out + size_t(r + pad[0]) * ow + pad[2]);
  });
}

void HostBackend::zero_pad2d_backward(const float* dy, float* dx, int n, int c, int h, int w,
                                      const std::array<int, 4>& pad) {
  const int oh = h + pad[0] + pad[1], ow = w + pad[2] + pad[3];
  parallel_for(threads_, n * c, [&](int plane) {
    const float* in = dy + size_t(plane) * oh * ow;
    for (int r = 0; r < h; ++r)
      std::copy(in + size_t(r + pad[0]) * ow + pad[2], in + size_t(r + pad[0]) * ow + pad[2] + w,
                dx + (size_t(plane) * h + r) * w);
  });
}

void HostBackend::accumulate(float* dst, const float* src, size_t count) {
  in_ranges(count, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) dst[i] = dst[i] + src[i];
  });
}

void HostBackend::batch_norm_sums(const BatchNormGeometry& g, const float* x, const float* mean,
                                  double* sums, int c0, int c1) {
  reference::batch_norm_chunk_sums(g, x, mean, sums, c0, c1);
}

void HostBackend::batch_norm_grad_sums(const BatchNormGeometry& g, const float* x,
                                       const float* saved_mean, const float* saved_inv_std,
                                       const float* dy, double* sums, int c0, int c1) {
  reference::batch_norm_grad_sums(g, x, saved_mean, saved_inv_std, dy, sums, c0, c1);
}

void HostBackend::batch_norm_forward(const BatchNormGeometry& g, bool training, const float* x,
                                     const float* gamma, const float* beta, float* moving_mean,
                                     float* moving_variance, float* saved_mean,
                                     float* saved_inv_std, float* y) {
  const auto channels = [&](const auto& phase) {
    parallel_for(threads_, g.c, [&](int ch) { phase(ch, ch + 1); });
  };
  if (!training)
    return channels([&](int c0, int c1) {
      reference::batch_norm_apply(g, x, gamma, beta, moving_mean, moving_variance, nullptr, y, c0,
                                  c1);
    });
  std::vector<double> sums(size_t(chunk_count(g.n)) * g.c);
  const auto every_chunk = [&] { return g.exchange ? g.exchange->all_chunks(sums, g.c) : sums; };
  channels([&](int c0, int c1) { batch_norm_sums(g, x, nullptr, sums.data(), c0, c1); });
  std::vector<double> all = every_chunk();
  const int chunks = int(all.size() / size_t(g.c));
  channels([&](int c0, int c1) {
    reference::batch_norm_mean(g, all.data(), chunks, saved_mean, c0, c1);
  });
  channels([&](int c0, int c1) { batch_norm_sums(g, x, saved_mean, sums.data(), c0, c1); });
  all = every_chunk();
  channels([&](int c0, int c1) {
    reference::batch_norm_variance(g, all.data(), chunks, saved_mean, moving_mean, moving_variance,
                                   saved_inv_std, c0, c1);
    reference::batch_norm_apply(g, x, gamma, beta, saved_mean, nullptr, saved_inv_std, y, c0, c1);
  });
}

void HostBackend::batch_norm_backward(const BatchNormGeometry& g, const float* x,
                                      const float* gamma, const float* saved_mean,
                                      const float* saved_inv_std, const float* dy, float* dx,
                                      float* dgamma, float* dbeta) {
  std::vector<double> sums(size_t(chunk_count(g.n)) * g.c * 2);
  parallel_for(threads_, g.c, [&](int ch) {
    batch_norm_grad_sums(g, x, saved_mean, saved_inv_std, dy, sums.data(), ch, ch + 1);
    reference::batch_norm_param_grads(g, sums.data(), dgamma, dbeta, ch, ch + 1);
  });
  // Every process exchanges, whether or not it wants dx, so all make the same calls.
  const std::vector<double> all = g.exchange ? g.exchange->all_chunks(sums, size_t(g.c) * 2) : sums;
  const int chunks = int(all.size() / (size_t(g.c) * 2));
  if (dx)
    parallel_for(threads_, g.c, [&](int ch) {
      reference::batch_norm_input_grad(g, x, gamma, saved_mean, saved_inv_std, all.data(), chunks,
                                       dy, dx, ch, ch + 1);
    });
}

void HostBackend::permute_axes(const float* x, float* y, int n, const std::array<int, 3>& dims,
                               const std::array<int, 3>& perm) {
  const std::array<size_t, 3> stride = {size_t(dims[1]) * dims[2], size_t(dims[2]), 1};
  const std::array<int, 3> out = {dims[perm[0]], dims[perm[1]], dims[perm[2]]};
  const size_t size = size_t(dims[0]) * dims[1] * dims[2];
  parallel_for(threads_, n, [&](int b) {
    const float* in = x + size_t(b) * size;
    float* to = y + size_t(b) * size;
    for (int i0 = 0; i0 < out[0]; ++i0)
      for (int i1 = 0; i1 < out[1]; ++i1)
        for (int i2 = 0; i2 < out[2]; ++i2)
          *to++ = in[i0 * stride[size_t(perm[0])] + i1 * stride[size_t(perm[1])] +
                     i2 * stride[size_t(perm[2])]];
  });
}

namespace {

// (rows, cols) -> (cols, rows).
std::vector<float> transposed(const float* w, int rows, int cols) {
  std::vector<float> t(size_t(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[size_t(c) * rows + r] = w[size_t(r) * cols + c];
  return t;
}

}  // namespace

void HostBackend::recurrent_forward(const RecurrentGeometry& g, const float* x, const float* kernel,
                                    const float* recurrent, const float* bias,
                                    const float* input_masks, const float* recurrent_masks,
                                    float* y, float* saved) {
  const int width = g.gates() * g.u;
  const std::vector<float> kernel_t = transposed(kernel, width, g.f);
  const std::vector<float> recurrent_t = transposed(recurrent, width, g.u);
  // Blocks of 8 images a task, stepping together (the bits do not depend on the blocks).
  const int block = 8;
  parallel_for(threads_, (g.n + block - 1) / block, [&](int t) {
    reference::recurrent_forward_images(g, x, kernel_t.data(), recurrent_t.data(), bias,
                                        input_masks, recurrent_masks, y, saved, t * block,
                                        std::min(g.n, (t + 1) * block));
  });
}

void HostBackend::recurrent_backward(const RecurrentGeometry& g, const float* x,
                                     const float* kernel, const float* recurrent,
                                     const float* input_masks, const float* recurrent_masks,
                                     const float* saved, const float* dy, float* dscratch,
                                     float* dx, float* dkernel, float* drecurrent, float* dbias) {
  parallel_for(threads_, g.n, [&](int b) {
    reference::recurrent_backward_images(g, kernel, recurrent, input_masks, recurrent_masks, saved,
                                         dy, dscratch, dx, b, b + 1);
  });
  // Blocks of 32 weight rows a task: each reads every (image, step) once per block.
  const int rows = g.gates() * g.u, block = 32;
  parallel_for(threads_, (rows + block - 1) / block, [&](int t) {
    reference::recurrent_weight_grads(g, x, input_masks, recurrent_masks, saved, dscratch, dkernel,
                                      drecurrent, dbias, t * block,
                                      std::min(rows, (t + 1) * block));
  });
}

void HostBackend::embedding_forward(const EmbeddingGeometry& g, const int32_t* ids,
                                    const float* table, float* y) {
  parallel_for(threads_, g.n,
               [&](int b) { reference::embedding_forward(g, ids, table, y, b, b + 1); });
}

void HostBackend::embedding_backward(const EmbeddingGeometry& g, const int32_t* ids,
                                     const float* dy, float* dx, float* dtable) {
  if (dx) std::fill(dx, dx + size_t(g.n) * g.t, 0.0f);
  const int block = 8;
  parallel_for(threads_, (g.f + block - 1) / block, [&](int t) {
    reference::embedding_table_grad(g, ids, dy, dtable, t * block, std::min(g.f, (t + 1) * block));
  });
}

void HostBackend::layer_norm_forward(const LayerNormGeometry& g, const float* x, const float* gamma,
                                     const float* beta, float* saved_mean, float* saved_inv_std,
                                     float* y) {
  parallel_for(threads_, g.n, [&](int b) {
    reference::layer_norm_forward(g, x, gamma, beta, saved_mean, saved_inv_std, y, b, b + 1);
  });
}

void HostBackend::layer_norm_backward(const LayerNormGeometry& g, const float* x,
                                      const float* gamma, const float* saved_mean,
                                      const float* saved_inv_std, const float* dy, float* dx,
                                      float* dgamma, float* dbeta) {
  if (dx)
    parallel_for(threads_, g.n, [&](int b) {
      reference::layer_norm_input_grad(g, x, gamma, saved_mean, saved_inv_std, dy, dx, b, b + 1);
    });
  if (dgamma || dbeta)
    parallel_for(threads_, g.c, [&](int ch) {
      reference::layer_norm_param_grads(g, x, saved_mean, saved_inv_std, dy, dgamma, dbeta, ch,
                                        ch + 1);
    });
}

LossSums HostBackend::softmax_cross_entropy(const float* logits, const int32_t* labels, int n,
                                            int k, float* dlogits, float grad_scale) {
  return reference::softmax_cross_entropy(logits, labels, n, k, dlogits, grad_scale);
}

void HostBackend::adam_update(float* w, const float* g, float* m, float* v, size_t n,
                              const AdamParams& p) {
  // The parameter tensors of the recipe are small; threads would cost more than they save.
  reference::adam_update(w, g, m, v, n, p);
}

void HostBackend::sgd_update(float* w, const float* g, float* velocity, size_t n,
                             const SgdParams& p) {
  reference::sgd_update(w, g, velocity, n, p);
}

void HostBackend::rmsprop_update(float* w, const float* g, float* velocity, float* momentum,
                                 float* average_gradient, size_t n, const RmspropParams& p) {
  reference::rmsprop_update(w, g, velocity, momentum, average_gradient, n, p);
}

void HostBackend::weight_decay_update(float* w, size_t n, float weight_decay, float learning_rate) {
  reference::weight_decay_update(w, n, weight_decay, learning_rate);
}

}  // namespace repro
