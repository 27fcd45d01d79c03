// 2-D convolution on oneDNN: forward with bias and relu as a post-op, backward-data and
// backward-weights (with bias), primitives built once per geometry with format_tag::any so
// oneDNN picks its blocked jit layouts; reorders only at the plain edges: weights, and the
// activations the caller keeps plain (a side given in channel blocks is handed over as is).
// Deterministic mode splits the weight-gradient batch sum into fixed micro-batches.
#include <omp.h>

#include <vector>

#include "backend/onednn/onednn_ops.h"
#include "backend/onednn/onednn_weight_grad.h"
#include "core/error.h"

namespace repro::onednn {

namespace {

using dnnl::memory;
namespace dn = dnnl;

struct ConvDescs {
  memory::desc src, weights, bias, dst;
  memory::dims strides, pad_l, pad_r;
};

// A plain side lets oneDNN choose (format any, reordered at the edge); a blocked side is fixed.
ConvDescs conv_descs(const ConvGeometry& g, int n) {
  ConvDescs d;
  d.src = plain_desc({n, g.c, g.h, g.w}, g.x_block == 1 ? tag::any : image_tag(g.x_block));
  d.dst = plain_desc({n, g.k, g.oh, g.ow}, g.y_block == 1 ? tag::any : image_tag(g.y_block));
  d.weights = plain_desc({g.k, g.c, g.r, g.s}, tag::any);
  d.bias = g.bias ? plain_desc({g.k}, tag::x) : memory::desc();
  d.strides = {g.stride_h, g.stride_w};
  d.pad_l = {g.pad_top, g.pad_left};
  d.pad_r = {g.pad_bottom, g.pad_right};
  return d;
}

dn::convolution_forward::primitive_desc forward_pd(const Context& ctx, const ConvDescs& d,
                                                   bool relu) {
  dn::primitive_attr attr;
  if (relu) {
    dn::post_ops ops;
    REPRO_DNNL(ops.append_eltwise(1.0f, dn::algorithm::eltwise_relu, 0.0f, 0.0f));
    REPRO_DNNL(attr.set_post_ops(ops));
  }
  auto desc = REPRO_DNNL(dn::convolution_forward::desc(
      dn::prop_kind::forward_training, dn::algorithm::convolution_direct, d.src, d.weights, d.bias,
      d.dst, d.strides, d.pad_l, d.pad_r));
  return REPRO_DNNL(dn::convolution_forward::primitive_desc(desc, attr, ctx.engine));
}

class OnednnConv2d : public Conv2dOp {
 public:
  OnednnConv2d(std::shared_ptr<const Context> ctx, const ConvGeometry& g)
      : ctx_(std::move(ctx)), g_(g) {
    const Context& c = *ctx_;
    ConvDescs d = conv_descs(g, g.n);
    // The caller's layouts: plain or channel blocks, as the geometry says.
    memory::desc x_user = plain_desc({g.n, g.c, g.h, g.w}, image_tag(g.x_block));
    memory::desc y_user = plain_desc({g.n, g.k, g.oh, g.ow}, image_tag(g.y_block));
    memory::desc w_plain = plain_desc({g.k, g.c, g.r, g.s}, tag::oihw);

    // Forward: y = relu(conv(x, w) + b) in one primitive (relu as a post-op).
    fwd_pd_ = forward_pd(c, d, g.relu);
    fwd_ = REPRO_DNNL(dn::convolution_forward(fwd_pd_));
    x_ = EdgeMemory(c, x_user, fwd_pd_.src_desc());
    w_ = EdgeMemory(c, w_plain, fwd_pd_.weights_desc());
    y_ = EdgeMemory(c, y_user, fwd_pd_.dst_desc());
    if (g.bias) b_ = REPRO_DNNL(memory(d.bias, c.engine, DNNL_MEMORY_NONE));

    // Backward data: dx = conv_transpose(dy, w), with the forward as the layout hint.
    auto bwd_data_desc = REPRO_DNNL(dn::convolution_backward_data::desc(
        dn::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.pad_l, d.pad_r));
    bwd_data_pd_ =
        REPRO_DNNL(dn::convolution_backward_data::primitive_desc(bwd_data_desc, c.engine, fwd_pd_));
    bwd_data_ = REPRO_DNNL(dn::convolution_backward_data(bwd_data_pd_));
    dx_ = EdgeMemory(c, x_user, bwd_data_pd_.diff_src_desc());
    dy_ = EdgeMemory(c, y_user, bwd_data_pd_.diff_dst_desc());
    w_bwd_ = EdgeMemory(c, w_plain, bwd_data_pd_.weights_desc());

    // Backward weights: the whole batch at once, or fixed micro-batches when deterministic.
    weight_grad_ = std::make_unique<WeightGrad>(
        c, g.n, g.bias, g.chunk_grads, w_plain,
        [&](int n, memory::desc src, memory::desc diff_dst) {
          ConvDescs part = conv_descs(g, n);
          if (!src.is_zero()) part.src = src, part.dst = diff_dst;
          auto hint = forward_pd(c, part, g.relu);
          auto desc = REPRO_DNNL(dn::convolution_backward_weights::desc(
              dn::algorithm::convolution_direct, part.src, part.weights, part.bias, part.dst,
              part.strides, part.pad_l, part.pad_r));
          dn::primitive_attr attr;
          REPRO_DNNL(attr.set_scratchpad_mode(dn::scratchpad_mode::user));
          return dn::primitive_desc(REPRO_DNNL(
              dn::convolution_backward_weights::primitive_desc(desc, attr, c.engine, hint)));
        });
    dy_w_ = EdgeMemory(c, y_user, weight_grad_->diff_dst_desc());
    x_w_ = EdgeMemory(c, x_user, weight_grad_->src_desc());
    // Each activation crosses the layout edge once per step where the layouts agree: the weight
    // gradient reads the x converted by forward() and the dy converted for backward-data.
    reuse_forward_x_ = weight_grad_->src_desc() == fwd_pd_.src_desc();
    reuse_dy_ = weight_grad_->diff_dst_desc() == bwd_data_pd_.diff_dst_desc();
  }

  void forward(const float* x, const float* w, const float* b, float* y) override {
    ctx_->use_threads();
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, x_.to_op(*ctx_, x)},
                                            {DNNL_ARG_WEIGHTS, w_.to_op(*ctx_, w)},
                                            {DNNL_ARG_DST, y_.op_memory(y)}};
    if (g_.bias) {
      REPRO_CHECK(b != nullptr, "conv2d forward: the geometry has a bias but b is null");
      REPRO_DNNL(b_.set_data_handle(const_cast<float*>(b)));
      args[DNNL_ARG_BIAS] = b_;
    }
    REPRO_DNNL(fwd_.execute(ctx_->stream, args));
    y_.from_op(*ctx_, y);
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    ctx_->use_threads();
    if (g_.relu) relu_mask(y, dy, size_t(g_.n) * g_.k * g_.oh * g_.ow);
    if (dx) {
      REPRO_DNNL(bwd_data_.execute(ctx_->stream, {{DNNL_ARG_DIFF_DST, dy_.to_op(*ctx_, dy)},
                                                  {DNNL_ARG_WEIGHTS, w_bwd_.to_op(*ctx_, w)},
                                                  {DNNL_ARG_DIFF_SRC, dx_.op_memory(dx)}}));
      dx_.from_op(*ctx_, dx);
    }
    const memory& src = reuse_forward_x_ ? x_.cached(x) : x_w_.to_op(*ctx_, x);
    const memory& diff_dst = (dx && reuse_dy_) ? dy_.cached(dy) : dy_w_.to_op(*ctx_, dy);
    weight_grad_->run(*ctx_, src, diff_dst, dw, g_.bias ? db : nullptr);
  }

 private:
  std::shared_ptr<const Context> ctx_;
  ConvGeometry g_;
  dn::convolution_forward::primitive_desc fwd_pd_;
  dn::convolution_forward fwd_;
  dn::convolution_backward_data::primitive_desc bwd_data_pd_;
  dn::convolution_backward_data bwd_data_;
  std::unique_ptr<WeightGrad> weight_grad_;
  EdgeMemory x_, w_, y_;        // forward: (N,C,H,W), (K,C,R,S), (N,K,OH,OW)
  EdgeMemory dx_, dy_, w_bwd_;  // backward data
  EdgeMemory x_w_, dy_w_;       // backward weights inputs
  memory b_;                    // (K), wraps the caller's pointer
  bool reuse_forward_x_ = false, reuse_dy_ = false;
};

}  // namespace

std::unique_ptr<Conv2dOp> make_conv2d(std::shared_ptr<const Context> ctx, const ConvGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.c > 0 && g.h > 0 && g.w > 0 && g.k > 0 && g.r > 0 && g.s > 0 &&
                  g.oh > 0 && g.ow > 0,
              "conv2d geometry has an empty dimension");
  REPRO_CHECK(g.c % g.x_block == 0 && g.k % g.y_block == 0,
              "conv2d: a channel block must divide its channel count");
  return std::make_unique<OnednnConv2d>(std::move(ctx), g);
}

}  // namespace repro::onednn
