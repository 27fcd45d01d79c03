// Fully connected layer on oneDNN inner product: forward with bias and relu post-op,
// backward-data, and the weight gradient through WeightGrad; when deterministic, all three in
// fixed micro-batches of single-threaded primitives (RowChunks, WeightGrad). x and y stay plain (N,
// IN) / (N, OUT); only the weights may be blocked.
#include <omp.h>

#include <algorithm>
#include <exception>

#include "backend/onednn/onednn_ops.h"
#include "backend/onednn/onednn_weight_grad.h"
#include "core/error.h"

namespace repro::onednn {

namespace {

using dnnl::memory;
namespace dn = dnnl;

dn::inner_product_forward::primitive_desc dense_forward_pd(const Context& c, const DenseGeometry& g,
                                                           int n) {
  dn::primitive_attr attr;
  if (g.relu) {
    dn::post_ops ops;
    REPRO_DNNL(ops.append_eltwise(1.0f, dn::algorithm::eltwise_relu, 0.0f, 0.0f));
    REPRO_DNNL(attr.set_post_ops(ops));
  }
  memory::desc bias = g.bias ? plain_desc({g.out}, tag::x) : memory::desc();
  auto desc = REPRO_DNNL(dn::inner_product_forward::desc(
      dn::prop_kind::forward_training, plain_desc({n, g.in}, tag::nc),
      plain_desc({g.out, g.in}, tag::any), bias, plain_desc({n, g.out}, tag::nc)));
  return REPRO_DNNL(dn::inner_product_forward::primitive_desc(desc, attr, c.engine));
}

// Deterministic mode's forward and backward-data. oneDNN's inner product on several threads may
// split the sum over IN between them (its gemm does when the batch and OUT are small, as behind
// a flatten), so the bits would follow the thread count. Here every chunk of kChunk images goes
// through a single-threaded primitive built for kChunk images (one more for a short last
// chunk), the chunks side by side: each image's row is the same sum for any thread count and
// any split of the batch over ranks. Weights stay plain (OUT, IN), so nothing is reordered.
class RowChunks {
 public:
  RowChunks(const Context& c, const DenseGeometry& g) : g_(g) {
    const memory::desc w_md = plain_desc({g.out, g.in}, tag::oi);
    const memory::desc b_md = g.bias ? plain_desc({g.out}, tag::x) : memory::desc();
    dn::primitive_attr attr;
    if (g.relu) {
      dn::post_ops ops;
      REPRO_DNNL(ops.append_eltwise(1.0f, dn::algorithm::eltwise_relu, 0.0f, 0.0f));
      REPRO_DNNL(attr.set_post_ops(ops));
    }
    const int whole = g.n / kChunk, rest = g.n % kChunk;
    for (int size : {kChunk, rest}) {
      if (size == 0 || (size == kChunk && whole == 0)) continue;
      const memory::desc x_md = plain_desc({size, g.in}, tag::nc);
      const memory::desc y_md = plain_desc({size, g.out}, tag::nc);
      single_threaded([&] {
        auto fwd_pd = REPRO_DNNL(dn::inner_product_forward::primitive_desc(
            REPRO_DNNL(dn::inner_product_forward::desc(dn::prop_kind::forward_training, x_md, w_md,
                                                       b_md, y_md)),
            attr, c.engine));
        auto bwd_pd = REPRO_DNNL(dn::inner_product_backward_data::primitive_desc(
            REPRO_DNNL(dn::inner_product_backward_data::desc(x_md, w_md, y_md)), c.engine, fwd_pd));
        kernels_.push_back({size, REPRO_DNNL(dn::inner_product_forward(fwd_pd)),
                            REPRO_DNNL(dn::inner_product_backward_data(bwd_pd))});
        return 0;
      });
    }
    for (int offset = 0; offset < g.n; offset += kChunk) {
      const int count = std::min(kChunk, g.n - offset);
      Chunk chunk;
      chunk.offset = offset;
      chunk.kernel = count == kChunk ? 0 : int(kernels_.size()) - 1;
      chunk.stream = REPRO_DNNL(dn::stream(c.engine));
      chunk.x = REPRO_DNNL(memory(plain_desc({count, g.in}, tag::nc), c.engine, DNNL_MEMORY_NONE));
      chunk.y = REPRO_DNNL(memory(plain_desc({count, g.out}, tag::nc), c.engine, DNNL_MEMORY_NONE));
      chunk.w = REPRO_DNNL(memory(w_md, c.engine, DNNL_MEMORY_NONE));
      if (g.bias) chunk.b = REPRO_DNNL(memory(b_md, c.engine, DNNL_MEMORY_NONE));
      chunks_.push_back(std::move(chunk));
    }
  }

  void forward(const Context& c, const float* x, const float* w, const float* b, float* y) {
    each(c, [&](Chunk& k) {
      bind(k, x, y, w);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, k.x}, {DNNL_ARG_WEIGHTS, k.w}, {DNNL_ARG_DST, k.y}};
      if (g_.bias) {
        REPRO_DNNL(k.b.set_data_handle(const_cast<float*>(b)));
        args[DNNL_ARG_BIAS] = k.b;
      }
      REPRO_DNNL(kernels_[size_t(k.kernel)].fwd.execute(k.stream, args));
    });
  }
  // dx (N, IN) from dy (N, OUT) (relu already applied to dy).
  void backward_data(const Context& c, const float* dy, const float* w, float* dx) {
    each(c, [&](Chunk& k) {
      bind(k, dx, dy, w);
      REPRO_DNNL(kernels_[size_t(k.kernel)].bwd_data.execute(
          k.stream, {{DNNL_ARG_DIFF_DST, k.y}, {DNNL_ARG_WEIGHTS, k.w}, {DNNL_ARG_DIFF_SRC, k.x}}));
    });
  }

 private:
  struct Kernel {
    int size = 0;
    dn::inner_product_forward fwd;
    dn::inner_product_backward_data bwd_data;
  };
  struct Chunk {  // a chunk's own stream and memory objects, so chunks run side by side
    int offset = 0, kernel = 0;
    dn::stream stream;
    memory x, y, w, b;
  };
  void bind(Chunk& k, const float* x_side, const float* y_side, const float* w) {
    REPRO_DNNL(k.x.set_data_handle(const_cast<float*>(x_side) + size_t(k.offset) * g_.in));
    REPRO_DNNL(k.y.set_data_handle(const_cast<float*>(y_side) + size_t(k.offset) * g_.out));
    REPRO_DNNL(k.w.set_data_handle(const_cast<float*>(w)));
  }
  template <class F>
  void each(const Context& c, F run) {
    // oneDNN runs sequentially inside an OpenMP parallel region.
    std::exception_ptr failure;
    const int count = int(chunks_.size());
#pragma omp parallel for schedule(static) num_threads(c.threads)
    for (int i = 0; i < count; i++) {
      try {
        run(chunks_[size_t(i)]);
      } catch (...) {
#pragma omp critical
        failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  }

  DenseGeometry g_;
  std::vector<Kernel> kernels_;
  std::vector<Chunk> chunks_;
};

class OnednnDense : public DenseOp {
 public:
  OnednnDense(std::shared_ptr<const Context> ctx, const DenseGeometry& g)
      : ctx_(std::move(ctx)), g_(g) {
    const Context& c = *ctx_;
    if (c.deterministic) rows_ = std::make_unique<RowChunks>(c, g);
    memory::desc x_md = plain_desc({g.n, g.in}, tag::nc);
    memory::desc y_md = plain_desc({g.n, g.out}, tag::nc);
    memory::desc w_plain = plain_desc({g.out, g.in}, tag::oi);

    auto fwd_pd = dense_forward_pd(c, g, g.n);
    fwd_ = REPRO_DNNL(dn::inner_product_forward(fwd_pd));
    w_ = EdgeMemory(c, w_plain, fwd_pd.weights_desc());

    auto bwd_desc = REPRO_DNNL(
        dn::inner_product_backward_data::desc(x_md, plain_desc({g.out, g.in}, tag::any), y_md));
    auto bwd_pd =
        REPRO_DNNL(dn::inner_product_backward_data::primitive_desc(bwd_desc, c.engine, fwd_pd));
    bwd_data_ = REPRO_DNNL(dn::inner_product_backward_data(bwd_pd));
    w_bwd_ = EdgeMemory(c, w_plain, bwd_pd.weights_desc());

    weight_grad_ = std::make_unique<WeightGrad>(
        c, g.n, g.bias, g.chunk_grads, w_plain, [&](int n, memory::desc, memory::desc) {
          auto hint = dense_forward_pd(c, g, n);
          memory::desc bias = g.bias ? plain_desc({g.out}, tag::x) : memory::desc();
          auto desc = REPRO_DNNL(dn::inner_product_backward_weights::desc(
              plain_desc({n, g.in}, tag::nc), plain_desc({g.out, g.in}, tag::any), bias,
              plain_desc({n, g.out}, tag::nc)));
          dn::primitive_attr attr;
          REPRO_DNNL(attr.set_scratchpad_mode(dn::scratchpad_mode::user));
          return dn::primitive_desc(REPRO_DNNL(
              dn::inner_product_backward_weights::primitive_desc(desc, attr, c.engine, hint)));
        });
    x_ = REPRO_DNNL(memory(x_md, c.engine, DNNL_MEMORY_NONE));
    y_ = REPRO_DNNL(memory(y_md, c.engine, DNNL_MEMORY_NONE));
    if (g.bias) b_ = REPRO_DNNL(memory(plain_desc({g.out}, tag::x), c.engine, DNNL_MEMORY_NONE));
  }

  void forward(const float* x, const float* w, const float* b, float* y) override {
    ctx_->use_threads();
    if (rows_) {
      REPRO_CHECK(!g_.bias || b != nullptr, "dense forward: the geometry has a bias but b is null");
      return rows_->forward(*ctx_, x, w, b, y);
    }
    REPRO_DNNL(x_.set_data_handle(const_cast<float*>(x)));
    REPRO_DNNL(y_.set_data_handle(y));
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, x_}, {DNNL_ARG_WEIGHTS, w_.to_op(*ctx_, w)}, {DNNL_ARG_DST, y_}};
    if (g_.bias) {
      REPRO_CHECK(b != nullptr, "dense forward: the geometry has a bias but b is null");
      REPRO_DNNL(b_.set_data_handle(const_cast<float*>(b)));
      args[DNNL_ARG_BIAS] = b_;
    }
    REPRO_DNNL(fwd_.execute(ctx_->stream, args));
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    ctx_->use_threads();
    if (g_.relu) relu_mask(y, dy, size_t(g_.n) * g_.out);
    REPRO_DNNL(y_.set_data_handle(dy));
    if (dx && rows_) {
      rows_->backward_data(*ctx_, dy, w, dx);
    } else if (dx) {
      REPRO_DNNL(x_.set_data_handle(dx));
      REPRO_DNNL(bwd_data_.execute(ctx_->stream, {{DNNL_ARG_DIFF_DST, y_},
                                                  {DNNL_ARG_WEIGHTS, w_bwd_.to_op(*ctx_, w)},
                                                  {DNNL_ARG_DIFF_SRC, x_}}));
    }
    REPRO_DNNL(x_.set_data_handle(const_cast<float*>(x)));
    weight_grad_->run(*ctx_, x_, y_, dw, g_.bias ? db : nullptr);
  }

 private:
  std::shared_ptr<const Context> ctx_;
  DenseGeometry g_;
  dn::inner_product_forward fwd_;
  dn::inner_product_backward_data bwd_data_;
  std::unique_ptr<WeightGrad> weight_grad_;
  std::unique_ptr<RowChunks> rows_;  // deterministic mode's forward and backward-data
  EdgeMemory w_, w_bwd_;             // (OUT, IN) plain -> the primitive's layout
  memory x_, y_, b_;                 // (N, IN), (N, OUT), (OUT): the caller's pointers
};

}  // namespace

std::unique_ptr<DenseOp> make_dense(std::shared_ptr<const Context> ctx, const DenseGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.in > 0 && g.out > 0, "dense geometry has an empty dimension");
  return std::make_unique<OnednnDense>(std::move(ctx), g);
}

}  // namespace repro::onednn
