// Max pooling on oneDNN: forward training keeps the argmax in a workspace that backward
// replays. Plain NCHW in and out (pooling is memory-bound; a layout change would cost more).
#include "backend/onednn/onednn_ops.h"
#include "core/error.h"

namespace repro::onednn {

namespace {

using dnnl::memory;
namespace dn = dnnl;

class OnednnMaxPool2d : public MaxPool2dOp {
 public:
  OnednnMaxPool2d(std::shared_ptr<const Context> ctx, const PoolGeometry& g)
      : ctx_(std::move(ctx)), g_(g) {
    const Context& c = *ctx_;
    memory::desc x_md = plain_desc({g.n, g.c, g.h, g.w}, tag::nchw);
    memory::desc y_md = plain_desc({g.n, g.c, g.oh, g.ow}, tag::nchw);
    memory::dims strides = {g.stride_h, g.stride_w}, kernel = {g.r, g.s};
    memory::dims pad_l = {g.pad_top, g.pad_left}, pad_r = {g.pad_bottom, g.pad_right};

    auto fwd_desc = REPRO_DNNL(dn::pooling_forward::desc(dn::prop_kind::forward_training,
                                                         dn::algorithm::pooling_max, x_md, y_md,
                                                         strides, kernel, pad_l, pad_r));
    auto fwd_pd = REPRO_DNNL(dn::pooling_forward::primitive_desc(fwd_desc, c.engine));
    fwd_ = REPRO_DNNL(dn::pooling_forward(fwd_pd));
    // The workspace holds the winner of every window between forward() and backward().
    workspace_ = REPRO_DNNL(memory(fwd_pd.workspace_desc(), c.engine));

    auto bwd_desc = REPRO_DNNL(dn::pooling_backward::desc(dn::algorithm::pooling_max, x_md, y_md,
                                                          strides, kernel, pad_l, pad_r));
    auto bwd_pd = REPRO_DNNL(dn::pooling_backward::primitive_desc(bwd_desc, c.engine, fwd_pd));
    bwd_ = REPRO_DNNL(dn::pooling_backward(bwd_pd));
    x_ = REPRO_DNNL(memory(x_md, c.engine, DNNL_MEMORY_NONE));
    y_ = REPRO_DNNL(memory(y_md, c.engine, DNNL_MEMORY_NONE));
  }

  void forward(const float* x, float* y) override {
    ctx_->use_threads();
    REPRO_DNNL(x_.set_data_handle(const_cast<float*>(x)));
    REPRO_DNNL(y_.set_data_handle(y));
    REPRO_DNNL(fwd_.execute(ctx_->stream, {{DNNL_ARG_SRC, x_},
                                           {DNNL_ARG_DST, y_},
                                           {DNNL_ARG_WORKSPACE, workspace_}}));
  }

  void backward(const float* dy, float* dx) override {
    ctx_->use_threads();
    REPRO_DNNL(y_.set_data_handle(const_cast<float*>(dy)));
    REPRO_DNNL(x_.set_data_handle(dx));
    REPRO_DNNL(bwd_.execute(ctx_->stream, {{DNNL_ARG_DIFF_DST, y_},
                                           {DNNL_ARG_DIFF_SRC, x_},
                                           {DNNL_ARG_WORKSPACE, workspace_}}));
  }

 private:
  std::shared_ptr<const Context> ctx_;
  PoolGeometry g_;
  dn::pooling_forward fwd_;
  dn::pooling_backward bwd_;
  memory workspace_;  // argmax of each window, in oneDNN's own encoding
  memory x_, y_;      // (N,C,H,W) and (N,C,OH,OW), wrapping the caller's pointers
};

}  // namespace

std::unique_ptr<MaxPool2dOp> make_max_pool2d(std::shared_ptr<const Context> ctx,
                                             const PoolGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.c > 0 && g.oh > 0 && g.ow > 0, "max pool geometry has an empty dimension");
  return std::make_unique<OnednnMaxPool2d>(std::move(ctx), g);
}

}  // namespace repro::onednn
