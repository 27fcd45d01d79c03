// Whole-model checks shared by the model tests: a training step's loss and gradients, and the
// gradients of every parameter against central finite differences on the reference backend.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "nn/model.h"
#include "train_helpers.h"

namespace repro::test {

inline std::vector<float> download(Backend& backend, const float* src, size_t n) {
  std::vector<float> out(n);
  backend.download(src, out.data(), n);
  return out;
}

// Mean cross-entropy of a training forward pass (dropout keyed by step 5), and optionally the
// gradients of every parameter.
inline double loss_of(Model& model, Backend& backend, const std::vector<float>& x,
                      const std::vector<int32_t>& y, int n, bool with_backward) {
  ForwardContext ctx{true, 11, 5};
  const float* logits = model.forward(x.data(), n, ctx);
  const LossSums sums = backend.softmax_cross_entropy(logits, y.data(), n, model.classes(),
                                                      model.dlogits(), 1.0f / n);
  if (with_backward) model.backward(n);
  return sums.loss / n;
}

// About `per_parameter` elements of every parameter: the backward's gradient against central
// differences (step 1e-2) of the loss of a batch of n inputs drawn from [x_lo, 1).
inline void check_gradients(const RunConfig& config, int n, float x_lo = 0.0f,
                            size_t per_parameter = 7) {
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, n);
  const std::vector<float> x = random_floats(model.input_shape().size() * n, 1, x_lo, 1.0f);
  std::vector<int32_t> y(n);
  for (int i = 0; i < n; ++i) y[i] = i % model.classes();

  loss_of(model, *backend, x, y, n, true);
  for (Parameter* p : model.parameters()) {
    const std::vector<float> analytic = download(*backend, p->grad.data(), p->size());
    std::vector<float> values = download(*backend, p->value.data(), p->size());
    const size_t stride = std::max<size_t>(1, p->size() / per_parameter);
    for (size_t i = 0; i < p->size(); i += stride) {
      const float original = values[i];
      const float eps = 1e-2f;
      values[i] = original + eps;
      backend->upload(values.data(), p->value.data(), values.size());
      const double plus = loss_of(model, *backend, x, y, n, false);
      values[i] = original - eps;
      backend->upload(values.data(), p->value.data(), values.size());
      const double minus = loss_of(model, *backend, x, y, n, false);
      values[i] = original;
      backend->upload(values.data(), p->value.data(), values.size());
      const double numeric = (plus - minus) / (2.0 * eps);
      INFO(p->name << "[" << i << "] analytic " << analytic[i] << " numeric " << numeric);
      CHECK(std::fabs(analytic[i] - numeric) <=
            2e-3 + 2e-2 * std::max(std::fabs(numeric), std::fabs(double(analytic[i]))));
    }
  }
}

}  // namespace repro::test
