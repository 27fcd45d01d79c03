// Reference fully connected layer: y = act(x w^T + b) with w stored (OUT, IN) as in the
// interface. Double accumulators, batch sums in sample order.
#include "backend/reference/reference_ops.h"

namespace repro::reference {

void dense_forward(const DenseGeometry& g, const float* x, const float* w, const float* b,
                   float* y) {
  for (int n = 0; n < g.n; n++) {
    for (int o = 0; o < g.out; o++) {
      double acc = 0;
      for (int i = 0; i < g.in; i++)
        acc += double(x[size_t(n) * g.in + i]) * w[size_t(o) * g.in + i];
      if (g.bias && b) acc += b[o];
      float out = float(acc);
      if (g.relu && !(out > 0.0f)) out = 0.0f;
      y[size_t(n) * g.out + o] = out;
    }
  }
}

void dense_backward(const DenseGeometry& g, const float* x, const float* w, const float* y,
                    const float* dy, float* dx, float* dw, float* db) {
  auto grad = [&](int n, int o) -> double {
    size_t i = size_t(n) * g.out + o;
    if (g.relu && !(y[i] > 0.0f)) return 0.0;
    return dy[i];
  };
  if (dx) {
    // dx (N,IN) = grad (N,OUT) w (OUT,IN)
    for (int n = 0; n < g.n; n++) {
      for (int i = 0; i < g.in; i++) {
        double acc = 0;
        for (int o = 0; o < g.out; o++) acc += grad(n, o) * w[size_t(o) * g.in + i];
        dx[size_t(n) * g.in + i] = float(acc);
      }
    }
  }
  // dw (OUT,IN) = grad^T (OUT,N) x (N,IN)
  for (int o = 0; o < g.out; o++) {
    for (int i = 0; i < g.in; i++) {
      double acc = 0;
      for (int n = 0; n < g.n; n++) acc += grad(n, o) * x[size_t(n) * g.in + i];
      dw[size_t(o) * g.in + i] = float(acc);
    }
  }
  if (g.bias && db) {
    for (int o = 0; o < g.out; o++) {
      double acc = 0;
      for (int n = 0; n < g.n; n++) acc += grad(n, o);
      db[o] = float(acc);
    }
  }
}

}  // namespace repro::reference
