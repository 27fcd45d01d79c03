// Fully connected layer on oneDNN inner product: forward with bias and relu post-op,
// backward-data, and the weight gradient through WeightGrad (fixed micro-batches when
// deterministic). x and y stay plain (N, IN) / (N, OUT); only the weights may be blocked.
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

class OnednnDense : public DenseOp {
 public:
  OnednnDense(std::shared_ptr<const Context> ctx, const DenseGeometry& g)
      : ctx_(std::move(ctx)), g_(g) {
    const Context& c = *ctx_;
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
    if (dx) {
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
  EdgeMemory w_, w_bwd_;  // (OUT, IN) plain -> the primitive's layout
  memory x_, y_, b_;      // (N, IN), (N, OUT), (OUT): the caller's pointers
};

}  // namespace

std::unique_ptr<DenseOp> make_dense(std::shared_ptr<const Context> ctx, const DenseGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.in > 0 && g.out > 0, "dense geometry has an empty dimension");
  return std::make_unique<OnednnDense>(std::move(ctx), g);
}

}  // namespace repro::onednn
