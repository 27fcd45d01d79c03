// Dense layers on cuBLAS SGEMM (one handle, the default stream, atomics off, pedantic math so no
// TF32 while deterministic) plus repro's bias + relu and bias-gradient kernels.
// cuBLAS is column-major: a row-major (R, C) matrix is read as its (C, R) transpose.
#include <string>

#include "backend/cuda/context.h"
#include "backend/cuda/kernels.h"
#include "core/error.h"

namespace repro::cuda {
namespace {

class CublasDense final : public DenseOp {
 public:
  CublasDense(std::shared_ptr<Context> context, const DenseGeometry& g)
      : context_(std::move(context)), g_(g) {
    REPRO_CHECK(g.n > 0 && g.in > 0 && g.out > 0,
                "dense (" + std::to_string(g.n) + ", " + std::to_string(g.in) + ") -> " +
                    std::to_string(g.out) + ": every dimension must be positive");
  }

  void forward(const float* x, const float* w, const float* b, float* y) override {
    const float one = 1.0f, zero = 0.0f;
    // y^T (OUT, N) = w (OUT, IN) x^T (IN, N); column-major w is (IN, OUT), so transpose it.
    REPRO_CUBLAS(cublasSgemm(context_->cublas.get(), CUBLAS_OP_T, CUBLAS_OP_N, g_.out, g_.n, g_.in,
                             &one, w, g_.in, x, g_.in, &zero, y, g_.out));
    bias_act_forward(y, g_.bias ? b : nullptr, g_.n, g_.out, 1, g_.relu);
  }

  void backward(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                float* db) override {
    const float one = 1.0f, zero = 0.0f;
    // dy (N, OUT) becomes dL/d(pre-activation) in place.
    if (g_.relu) relu_backward(dy, y, static_cast<size_t>(g_.n) * g_.out);
    if (db != nullptr && g_.bias) bias_backward(dy, db, g_.n, g_.out, 1);
    // dw^T (IN, OUT) = x^T (IN, N) dy (N, OUT): dw (OUT, IN) = dy^T x.
    REPRO_CUBLAS(cublasSgemm(context_->cublas.get(), CUBLAS_OP_N, CUBLAS_OP_T, g_.in, g_.out, g_.n,
                             &one, x, g_.in, dy, g_.out, &zero, dw, g_.in));
    if (dx == nullptr) return;
    // dx^T (IN, N) = w^T (IN, OUT) dy^T (OUT, N): dx (N, IN) = dy w.
    REPRO_CUBLAS(cublasSgemm(context_->cublas.get(), CUBLAS_OP_N, CUBLAS_OP_N, g_.in, g_.n, g_.out,
                             &one, w, g_.in, dy, g_.out, &zero, dx, g_.in));
  }

 private:
  std::shared_ptr<Context> context_;
  DenseGeometry g_;
};

}  // namespace

std::unique_ptr<DenseOp> make_dense(std::shared_ptr<Context> context, const DenseGeometry& g) {
  return std::make_unique<CublasDense>(std::move(context), g);
}

}  // namespace repro::cuda
