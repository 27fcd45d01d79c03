// Max pooling: forward training keeps the argmax in a workspace that backward replays. Plain
// NCHW in and out (pooling is memory-bound; a layout change would cost more). The recipe's
// 2x2 stride-2 unpadded case runs our own select loop (oneDNN 2.6's jit pooling transposes
// plain NCHW internally and was slower, 2x in isolation); other geometries run oneDNN's.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

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

// 2x2 windows at stride 2 without padding: the windows tile the plane, so forward is four
// loads and three selects per output and backward assigns every dx element exactly once (no
// zero fill, no scatter). Ties go to the first element in row-major order, as in the reference:
// a later candidate wins only when strictly greater. Max and select are exact, so the result
// does not depend on the thread count or the vector width.
class PlainMaxPool2x2 : public MaxPool2dOp {
 public:
  PlainMaxPool2x2(std::shared_ptr<const Context> ctx, const PoolGeometry& g)
      : ctx_(std::move(ctx)), g_(g), winner_(size_t(g.n) * g.c * g.oh * g.ow) {}

  void forward(const float* x, float* y) override {
    ctx_->use_threads();
    const int planes = g_.n * g_.c, h = g_.h, w = g_.w, oh = g_.oh, ow = g_.ow;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
      const float* xp = x + size_t(p) * h * w;  // (H, W)
      float* yp = y + size_t(p) * oh * ow;      // (OH, OW)
      uint8_t* wp = winner_.data() + size_t(p) * oh * ow;
      for (int i = 0; i < oh; i++) {
        const float* top = xp + size_t(2 * i) * w;
        const float* bottom = top + w;
        for (int j = 0; j < ow; j++) {
          float a0 = top[2 * j], a1 = top[2 * j + 1], b0 = bottom[2 * j], b1 = bottom[2 * j + 1];
          // std::max keeps its first argument on ties; flags as integers keep the loop free of
          // branches (relu outputs are zero half the time: branches would mispredict).
          float top_max = std::max(a0, a1), bottom_max = std::max(b0, b1);
          unsigned top_right = a1 > a0, bottom_right = b1 > b0, from_bottom = bottom_max > top_max;
          yp[i * ow + j] = std::max(top_max, bottom_max);
          unsigned right = top_right ^ ((top_right ^ bottom_right) & from_bottom);
          wp[i * ow + j] = uint8_t((from_bottom << 1) | right);
        }
      }
    }
  }

  void backward(const float* dy, float* dx) override {
    ctx_->use_threads();
    const int planes = g_.n * g_.c, h = g_.h, w = g_.w, oh = g_.oh, ow = g_.ow;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
      float* xp = dx + size_t(p) * h * w;             // (H, W)
      const float* yp = dy + size_t(p) * oh * ow;     // (OH, OW)
      const uint8_t* wp = winner_.data() + size_t(p) * oh * ow;
      for (int i = 0; i < oh; i++) {
        float* top = xp + size_t(2 * i) * w;
        float* bottom = top + w;
        for (int j = 0; j < ow; j++) {
          float d = 0.0f + yp[i * ow + j];  // -0 becomes +0, as the reference's 0 + dy
          int k = wp[i * ow + j];
          // Bit masks, not branches: the winner's place is random. Non-winners get +0.0f exactly.
          uint32_t bits = std::bit_cast<uint32_t>(d);
          top[2 * j] = std::bit_cast<float>(bits & (0u - uint32_t(k == 0)));
          top[2 * j + 1] = std::bit_cast<float>(bits & (0u - uint32_t(k == 1)));
          bottom[2 * j] = std::bit_cast<float>(bits & (0u - uint32_t(k == 2)));
          bottom[2 * j + 1] = std::bit_cast<float>(bits & (0u - uint32_t(k == 3)));
        }
        for (int j = 2 * ow; j < w; j++) top[j] = bottom[j] = 0.0f;  // odd width: no window
      }
      for (size_t i = size_t(2 * oh) * w; i < size_t(h) * w; i++) xp[i] = 0.0f;  // odd height
    }
  }

 private:
  std::shared_ptr<const Context> ctx_;
  PoolGeometry g_;
  std::vector<uint8_t> winner_;  // (N, C, OH, OW): 0..3, row-major place in the window
};

bool is_plain_2x2(const PoolGeometry& g) {
  return g.r == 2 && g.s == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_top == 0 &&
         g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0 && g.oh == g.h / 2 &&
         g.ow == g.w / 2;
}

}  // namespace

std::unique_ptr<MaxPool2dOp> make_max_pool2d(std::shared_ptr<const Context> ctx,
                                             const PoolGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.c > 0 && g.oh > 0 && g.ow > 0, "max pool geometry has an empty dimension");
  if (is_plain_2x2(g)) return std::make_unique<PlainMaxPool2x2>(std::move(ctx), g);
  return std::make_unique<OnednnMaxPool2d>(std::move(ctx), g);
}

}  // namespace repro::onednn
