// Max pooling: forward training keeps the argmax in a workspace that backward replays. x and y
// are plain NCHW or channel blocks, as the geometry says. The recipe's 2x2 stride-2 unpadded
// case runs our own select loop (oneDNN 2.6's jit pooling transposes plain NCHW internally and
// was slower, 2x in isolation); other geometries run oneDNN's.
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
    memory::desc x_md = plain_desc({g.n, g.c, g.h, g.w}, image_tag(g.x_block));
    memory::desc y_md = plain_desc({g.n, g.c, g.oh, g.ow}, image_tag(g.y_block));
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
    REPRO_DNNL(fwd_.execute(
        ctx_->stream, {{DNNL_ARG_SRC, x_}, {DNNL_ARG_DST, y_}, {DNNL_ARG_WORKSPACE, workspace_}}));
  }

  void backward(const float* dy, float* dx) override {
    ctx_->use_threads();
    REPRO_DNNL(y_.set_data_handle(const_cast<float*>(dy)));
    REPRO_DNNL(x_.set_data_handle(dx));
    REPRO_DNNL(bwd_.execute(
        ctx_->stream,
        {{DNNL_ARG_DIFF_DST, y_}, {DNNL_ARG_DIFF_SRC, x_}, {DNNL_ARG_WORKSPACE, workspace_}}));
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
// does not depend on the thread count, the vector width or the layout.
//
// The loops run over groups of B channels of one image (B = the larger channel block of x and
// y, 1 when both are plain) with the B channels innermost: contiguous vectors in channel blocks,
// a strided walk on a plain side (which is how the layout change at a block edge comes free).
// A group covers the same B * H * W values in either layout, so both index from its start.
template <int B, bool Blocked>
inline size_t at(size_t pixel, int lane, size_t plane) {
  return Blocked ? pixel * B + lane : lane * plane + pixel;
}

template <int B, bool XBlocked, bool YBlocked>
void pool2x2_forward(const PoolGeometry& g, const float* x, float* y, uint8_t* winner) {
  const long groups = long(g.n) * (g.c / B);
  const int w = g.w, oh = g.oh, ow = g.ow;
  const size_t hw = size_t(g.h) * w, ohw = size_t(oh) * ow;
#pragma omp parallel for schedule(static)
  for (long grp = 0; grp < groups; grp++) {
    const float* xg = x + size_t(grp) * B * hw;
    float* yg = y + size_t(grp) * B * ohw;
    uint8_t* wg = winner + size_t(grp) * B * ohw;  // (OH, OW, B)
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        const size_t p00 = size_t(2 * i) * w + 2 * j, q = size_t(i) * ow + j;
        for (int l = 0; l < B; l++) {
          float a0 = xg[at<B, XBlocked>(p00, l, hw)], a1 = xg[at<B, XBlocked>(p00 + 1, l, hw)];
          float b0 = xg[at<B, XBlocked>(p00 + w, l, hw)];
          float b1 = xg[at<B, XBlocked>(p00 + w + 1, l, hw)];
          // std::max keeps its first argument on ties; flags as integers keep the loop free of
          // branches (relu outputs are zero half the time: branches would mispredict).
          float top_max = std::max(a0, a1), bottom_max = std::max(b0, b1);
          unsigned top_right = a1 > a0, bottom_right = b1 > b0, from_bottom = bottom_max > top_max;
          yg[at<B, YBlocked>(q, l, ohw)] = std::max(top_max, bottom_max);
          unsigned right = top_right ^ ((top_right ^ bottom_right) & from_bottom);
          wg[q * B + l] = uint8_t((from_bottom << 1) | right);
        }
      }
    }
  }
}

template <int B, bool XBlocked, bool YBlocked>
void pool2x2_backward(const PoolGeometry& g, const float* dy, float* dx, const uint8_t* winner) {
  const long groups = long(g.n) * (g.c / B);
  const int h = g.h, w = g.w, oh = g.oh, ow = g.ow;
  const size_t hw = size_t(h) * w, ohw = size_t(oh) * ow;
#pragma omp parallel for schedule(static)
  for (long grp = 0; grp < groups; grp++) {
    float* xg = dx + size_t(grp) * B * hw;
    const float* yg = dy + size_t(grp) * B * ohw;
    const uint8_t* wg = winner + size_t(grp) * B * ohw;
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        const size_t p00 = size_t(2 * i) * w + 2 * j, q = size_t(i) * ow + j;
        for (int l = 0; l < B; l++) {
          float d =
              0.0f + yg[at<B, YBlocked>(q, l, ohw)];  // -0 becomes +0, as the reference's 0 + dy
          int k = wg[q * B + l];
          // Bit masks, not branches: the winner's place is random. Non-winners get +0.0f exactly.
          uint32_t bits = std::bit_cast<uint32_t>(d);
          xg[at<B, XBlocked>(p00, l, hw)] = std::bit_cast<float>(bits & (0u - uint32_t(k == 0)));
          xg[at<B, XBlocked>(p00 + 1, l, hw)] =
              std::bit_cast<float>(bits & (0u - uint32_t(k == 1)));
          xg[at<B, XBlocked>(p00 + w, l, hw)] =
              std::bit_cast<float>(bits & (0u - uint32_t(k == 2)));
          xg[at<B, XBlocked>(p00 + w + 1, l, hw)] =
              std::bit_cast<float>(bits & (0u - uint32_t(k == 3)));
        }
      }
      // Odd width: the last column has no window.
      for (int j = 2 * ow; j < w; j++)
        for (int l = 0; l < B; l++)
          xg[at<B, XBlocked>(size_t(2 * i) * w + j, l, hw)] =
              xg[at<B, XBlocked>(size_t(2 * i + 1) * w + j, l, hw)] = 0.0f;
    }
    for (size_t p = size_t(2 * oh) * w; p < hw; p++)  // odd height: the last row has none
      for (int l = 0; l < B; l++) xg[at<B, XBlocked>(p, l, hw)] = 0.0f;
  }
}

class SelectMaxPool2x2 : public MaxPool2dOp {
 public:
  SelectMaxPool2x2(std::shared_ptr<const Context> ctx, const PoolGeometry& g)
      : ctx_(std::move(ctx)), g_(g), winner_(size_t(g.n) * g.c * g.oh * g.ow) {
    const int b = std::max(g.x_block, g.y_block);
    const bool xb = g.x_block > 1, yb = g.y_block > 1;
    if (b == 1) {
      forward_ = pool2x2_forward<1, false, false>, backward_ = pool2x2_backward<1, false, false>;
    } else if (b == 8) {
      forward_ = xb ? (yb ? pool2x2_forward<8, true, true> : pool2x2_forward<8, true, false>)
                    : pool2x2_forward<8, false, true>;
      backward_ = xb ? (yb ? pool2x2_backward<8, true, true> : pool2x2_backward<8, true, false>)
                     : pool2x2_backward<8, false, true>;
    } else {
      forward_ = xb ? (yb ? pool2x2_forward<16, true, true> : pool2x2_forward<16, true, false>)
                    : pool2x2_forward<16, false, true>;
      backward_ = xb ? (yb ? pool2x2_backward<16, true, true> : pool2x2_backward<16, true, false>)
                     : pool2x2_backward<16, false, true>;
    }
  }

  void forward(const float* x, float* y) override {
    ctx_->use_threads();
    forward_(g_, x, y, winner_.data());
  }
  void backward(const float* dy, float* dx) override {
    ctx_->use_threads();
    backward_(g_, dy, dx, winner_.data());
  }

 private:
  std::shared_ptr<const Context> ctx_;
  PoolGeometry g_;
  std::vector<uint8_t> winner_;  // (N, C / B, OH, OW, B): 0..3, row-major place in the window
  void (*forward_)(const PoolGeometry&, const float*, float*, uint8_t*) = nullptr;
  void (*backward_)(const PoolGeometry&, const float*, float*, const uint8_t*) = nullptr;
};

// The select loops cover 2x2 stride-2 unpadded windows, with channel blocks of 8 or 16 on either
// side (the other side plain or the same block).
bool fits_select_2x2(const PoolGeometry& g) {
  const int b = std::max(g.x_block, g.y_block);
  const bool blocks_fit = (b == 1 || b == 8 || b == 16) && g.c % b == 0 &&
                          (g.x_block == 1 || g.x_block == b) && (g.y_block == 1 || g.y_block == b);
  return blocks_fit && g.r == 2 && g.s == 2 && g.stride_h == 2 && g.stride_w == 2 &&
         g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0 &&
         g.oh == g.h / 2 && g.ow == g.w / 2;
}

}  // namespace

std::unique_ptr<MaxPool2dOp> make_max_pool2d(std::shared_ptr<const Context> ctx,
                                             const PoolGeometry& g) {
  REPRO_CHECK(g.n > 0 && g.c > 0 && g.oh > 0 && g.ow > 0,
              "max pool geometry has an empty dimension");
  REPRO_CHECK(g.c % g.x_block == 0 && g.c % g.y_block == 0,
              "max pool: a channel block must divide the channel count");
  if (fits_select_2x2(g)) return std::make_unique<SelectMaxPool2x2>(std::move(ctx), g);
  return std::make_unique<OnednnMaxPool2d>(std::move(ctx), g);
}

}  // namespace repro::onednn
