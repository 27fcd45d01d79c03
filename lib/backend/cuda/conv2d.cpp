// Conv2d on cuDNN 9's legacy convolution API: forward, backward-data and backward-filter, plus
// repro's own bias + relu and bias-gradient kernels (fixed-order sums, no atomics).
// Algorithms come only from the heuristic `_v7` queries (never the timing-based Find calls), so
// the choice is a pure function of geometry, GPU and cuDNN version. With determinism on, the
// first result that cuDNN marks CUDNN_DETERMINISTIC with FMA math (no TF32) is taken.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cuda/context.h"
#include "backend/cuda/kernels.h"
#include "core/error.h"

namespace repro::cuda {
namespace {

std::string describe_geometry(const ConvGeometry& g) {
  return "conv2d x (" + std::to_string(g.n) + ", " + std::to_string(g.c) + ", " +
         std::to_string(g.h) + ", " + std::to_string(g.w) + "), w (" + std::to_string(g.k) + ", " +
         std::to_string(g.c) + ", " + std::to_string(g.r) + ", " + std::to_string(g.s) +
         "), stride " + std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w);
}

// The chosen algorithm of one pass: its enum value, math type and workspace size.
template <typename Algo>
struct Choice {
  Algo algo{};
  cudnnMathType_t math = CUDNN_FMA_MATH;
  size_t workspace = 0;
};

// Picks from heuristic results (best first). Deterministic: the first successful result that
// cuDNN marks CUDNN_DETERMINISTIC, under the workspace cap, reported with FMA math (else, as a
// fallback, with default math), always run with the descriptor set to CUDNN_FMA_MATH so no
// TF32 kernel can be used. Otherwise: the first successful result under the cap, with the math
// type cuDNN reports for it (possibly nondeterministic, possibly TF32).
template <typename Perf, typename Algo>
Choice<Algo> pick(const std::vector<Perf>& results, int returned, bool deterministic,
                  const char* pass, const ConvGeometry& g) {
  const cudnnMathType_t accepted[2] = {CUDNN_FMA_MATH, CUDNN_DEFAULT_MATH};
  for (int round = 0; round < (deterministic ? 2 : 1); ++round) {
    for (int i = 0; i < returned; ++i) {
      const Perf& p = results[i];
      if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspaceBytes) continue;
      if (!deterministic) return Choice<Algo>{p.algo, p.mathType, p.memory};
      if (p.determinism == CUDNN_DETERMINISTIC && p.mathType == accepted[round]) {
        return Choice<Algo>{p.algo, CUDNN_FMA_MATH, p.memory};
      }
    }
  }
  throw RuntimeError(std::string("cuDNN offers no ") +
                     (deterministic ? "deterministic FMA-math " : "") + pass + " algorithm for " +
                     describe_geometry(g) +
                     " within a 256 MiB workspace; use determinism: off or device: cpu");
}

class CudnnConv2d final : public Conv2dOp {
 public:
  CudnnConv2d(std::shared_ptr<Context> context, const ConvGeometry& g)
      : context_(std::move(context)), g_(g) {
    REPRO_CHECK(g.n > 0 && g.c > 0 && g.h > 0 && g.w > 0 && g.k > 0 && g.r > 0 && g.s > 0,
                describe_geometry(g) + ": every dimension must be positive");
    // Legacy cuDNN pads symmetrically; uneven padding (TF "same" with stride 2 or an even kernel)
    // runs on an explicitly zero-padded copy of x with no cuDNN padding.
    padded_ = g.pad_top != g.pad_bottom || g.pad_left != g.pad_right;
    hp_ = padded_ ? g.h + g.pad_top + g.pad_bottom : g.h;
    wp_ = padded_ ? g.w + g.pad_left + g.pad_right : g.w;
    const int pad_h = padded_ ? 0 : g.pad_top, pad_w = padded_ ? 0 : g.pad_left;

    REPRO_CUDNN(cudnnSetTensor4dDescriptor(x_desc_.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.n,
                                           g.c, hp_, wp_));
    REPRO_CUDNN(cudnnSetFilter4dDescriptor(w_desc_.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.k,
                                           g.c, g.r, g.s));
    REPRO_CUDNN(cudnnSetConvolution2dDescriptor(conv_desc_.get(), pad_h, pad_w, g.stride_h,
                                                g.stride_w, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT));
    const cudnnMathType_t query_math =
        context_->deterministic ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), query_math));
    int n = 0, k = 0, oh = 0, ow = 0;
    REPRO_CUDNN(cudnnGetConvolution2dForwardOutputDim(conv_desc_.get(), x_desc_.get(),
                                                      w_desc_.get(), &n, &k, &oh, &ow));
    REPRO_CHECK(n == g.n && k == g.k && oh == g.oh && ow == g.ow,
                describe_geometry(g) + ": cuDNN computes output " + std::to_string(oh) + "x" +
                    std::to_string(ow) + ", the layer expects " + std::to_string(g.oh) + "x" +
                    std::to_string(g.ow));
    REPRO_CUDNN(cudnnSetTensor4dDescriptor(y_desc_.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.n,
                                           g.k, g.oh, g.ow));
    choose_algorithms();
    if (padded_) {
      const size_t bytes = sizeof(float) * static_cast<size_t>(g.n) * g.c * hp_ * wp_;
      x_padded_.resize(bytes);
      dx_padded_.resize(bytes);
    }
  }

  void forward(const float* x, const float* w, const float* b, float* y) override {
    const float one = 1.0f, zero = 0.0f;
    const float* xin = padded_input(x);
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), fwd_.math));
    REPRO_CUDNN(cudnnConvolutionForward(context_->cudnn.get(), &one, x_desc_.get(), xin,
                                        w_desc_.get(), w, conv_desc_.get(), fwd_.algo,
                                        context_->workspace.get(), context_->workspace.bytes(),
                                        &zero, y_desc_.get(), y));
    bias_act_forward(y, g_.bias ? b : nullptr, g_.n, g_.k, g_.oh * g_.ow, g_.relu);
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    const float one = 1.0f, zero = 0.0f;
    // dy (N, K, OH, OW) becomes dL/d(pre-activation) in place.
    if (g_.relu) relu_backward(dy, y, static_cast<size_t>(g_.n) * g_.k * g_.oh * g_.ow);
    if (db != nullptr && g_.bias) bias_backward(dy, db, g_.n, g_.k, g_.oh * g_.ow);

    const float* xin = padded_input(x);
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), bwd_filter_.math));
    REPRO_CUDNN(cudnnConvolutionBackwardFilter(
        context_->cudnn.get(), &one, x_desc_.get(), xin, y_desc_.get(), dy, conv_desc_.get(),
        bwd_filter_.algo, context_->workspace.get(), context_->workspace.bytes(), &zero,
        w_desc_.get(), dw));
    if (dx == nullptr) return;
    float* dx_out = padded_ ? static_cast<float*>(dx_padded_.get()) : dx;
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), bwd_data_.math));
    REPRO_CUDNN(cudnnConvolutionBackwardData(context_->cudnn.get(), &one, w_desc_.get(), w,
                                             y_desc_.get(), dy, conv_desc_.get(), bwd_data_.algo,
                                             context_->workspace.get(), context_->workspace.bytes(),
                                             &zero, x_desc_.get(), dx_out));
    if (padded_)
      crop_planes(dx_out, dx, g_.n * g_.c, g_.h, g_.w, hp_, wp_, g_.pad_top, g_.pad_left);
  }

 private:
  const float* padded_input(const float* x) {
    if (!padded_) return x;
    float* xp = static_cast<float*>(x_padded_.get());
    pad_planes(x, xp, g_.n * g_.c, g_.h, g_.w, hp_, wp_, g_.pad_top, g_.pad_left);
    return xp;
  }

  // Queries the three passes' heuristics once; grows the shared workspace to fit them.
  void choose_algorithms() {
    cudnnHandle_t h = context_->cudnn.get();
    const bool det = context_->deterministic;
    int max_count = 0, returned = 0;

    REPRO_CUDNN(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> fwd(max_count);
    REPRO_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(h, x_desc_.get(), w_desc_.get(),
                                                       conv_desc_.get(), y_desc_.get(), max_count,
                                                       &returned, fwd.data()));
    fwd_ = pick<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(fwd, returned, det,
                                                                          "forward", g_);

    REPRO_CUDNN(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data(max_count);
    REPRO_CUDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w_desc_.get(), y_desc_.get(),
                                                            conv_desc_.get(), x_desc_.get(),
                                                            max_count, &returned, data.data()));
    bwd_data_ = pick<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
        data, returned, det, "backward-data", g_);

    REPRO_CUDNN(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter(max_count);
    REPRO_CUDNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x_desc_.get(), y_desc_.get(),
                                                              conv_desc_.get(), w_desc_.get(),
                                                              max_count, &returned, filter.data()));
    bwd_filter_ = pick<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
        filter, returned, det, "backward-filter", g_);

    // The sizes under each pass's own math type (cuDNN's own advice for the legacy API); a
    // choice that cuDNN cannot run under that math type fails here, when the op is built.
    size_t bytes = 0;
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), fwd_.math));
    REPRO_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(
        h, x_desc_.get(), w_desc_.get(), conv_desc_.get(), y_desc_.get(), fwd_.algo, &bytes));
    size_t needed = std::max(bytes, fwd_.workspace);
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), bwd_data_.math));
    REPRO_CUDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(
        h, w_desc_.get(), y_desc_.get(), conv_desc_.get(), x_desc_.get(), bwd_data_.algo, &bytes));
    needed = std::max({needed, bytes, bwd_data_.workspace});
    REPRO_CUDNN(cudnnSetConvolutionMathType(conv_desc_.get(), bwd_filter_.math));
    REPRO_CUDNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, x_desc_.get(), y_desc_.get(),
                                                               conv_desc_.get(), w_desc_.get(),
                                                               bwd_filter_.algo, &bytes));
    needed = std::max({needed, bytes, bwd_filter_.workspace});
    context_->workspace.resize(needed);
  }

  std::shared_ptr<Context> context_;
  ConvGeometry g_;
  bool padded_ = false;
  int hp_ = 0, wp_ = 0;  // the input's height and width as cuDNN sees it
  TensorDesc x_desc_;    // (N, C, HP, WP)
  TensorDesc y_desc_;    // (N, K, OH, OW)
  FilterDesc w_desc_;    // (K, C, R, S)
  ConvDesc conv_desc_;
  Choice<cudnnConvolutionFwdAlgo_t> fwd_;
  Choice<cudnnConvolutionBwdDataAlgo_t> bwd_data_;
  Choice<cudnnConvolutionBwdFilterAlgo_t> bwd_filter_;
  DeviceBuffer x_padded_;   // (N, C, HP, WP), only when padding is uneven
  DeviceBuffer dx_padded_;  // (N, C, HP, WP), only when padding is uneven
};

}  // namespace

std::unique_ptr<Conv2dOp> make_conv2d(std::shared_ptr<Context> context, const ConvGeometry& g) {
  return std::make_unique<CudnnConv2d>(std::move(context), g);
}

}  // namespace repro::cuda
