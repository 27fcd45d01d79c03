// Recurrent layers (simple_rnn, lstm, gru): Keras 3's cell formulas by hand on a tiny case, finite-
// difference gradients through time with and without each dropout, masks drawn once per sequence
// and per image, and the same bits at any thread count, backend and portable ISA path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "backend/backend.h"
#include "backend/reference/reference_ops.h"
#include "model_checks.h"
#include "nn/model.h"
#include "train_helpers.h"

namespace repro {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

RunConfig sequence_model(const std::string& layers) {
  return parse_config(
      "seed: 4\ndata: {resize: [6, 5]}\nmodel:\n  - reshape: {target_shape: [6, 5]}\n" + layers,
      "rnn.yaml");
}

using test::download;
using test::loss_of;

// Inputs from [-1, 1), nine elements of every parameter.
void check_gradients(const RunConfig& config, int n) { test::check_gradients(config, n, -1.0f, 9); }

}  // namespace

TEST_CASE("lstm and simple_rnn cells compute Keras's formulas, step by step", "[recurrent]") {
  // One image, two timesteps, two features, two units: every weight set by hand.
  RecurrentGeometry g;
  g.n = 1, g.t = 2, g.f = 2, g.u = 2;
  const std::vector<float> x = {0.5f, -1.0f, 0.25f, 2.0f};  // (T, F)
  const int width = 4 * g.u;
  std::vector<float> kernel(size_t(width) * g.f), recurrent(size_t(width) * g.u), bias(width);
  for (size_t i = 0; i < kernel.size(); ++i) kernel[i] = 0.1f * float(int(i % 7) - 3);
  for (size_t i = 0; i < recurrent.size(); ++i) recurrent[i] = 0.05f * float(int(i % 5) - 2);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * float(i);
  // Keras: z = x K + b + h U over columns (i, f, c, o); backend rows are those columns.
  auto z_of = [&](int t, const std::vector<double>& h, int col) {
    double z = bias[size_t(col)];
    for (int k = 0; k < g.f; ++k) z += x[size_t(t * g.f + k)] * kernel[size_t(col * g.f + k)];
    for (int k = 0; k < g.u; ++k) z += h[size_t(k)] * recurrent[size_t(col * g.u + k)];
    return z;
  };
  std::vector<double> h(2, 0.0), c(2, 0.0);
  for (int t = 0; t < 2; ++t) {
    std::vector<double> nh(2), nc(2);
    for (int j = 0; j < 2; ++j) {
      const double i = sigmoid(z_of(t, h, j)), f = sigmoid(z_of(t, h, 2 + j));
      const double cc = std::tanh(z_of(t, h, 4 + j)), o = sigmoid(z_of(t, h, 6 + j));
      nc[size_t(j)] = f * c[size_t(j)] + i * cc;
      nh[size_t(j)] = o * std::tanh(nc[size_t(j)]);
    }
    h = nh, c = nc;
  }
  auto backend = make_backend("reference", BackendOptions{1, true});
  std::vector<float> y(2), saved(size_t(g.t) * g.saved_per_step());
  backend->recurrent_forward(g, x.data(), kernel.data(), recurrent.data(), bias.data(), nullptr,
                             nullptr, y.data(), saved.data());
  CHECK(y[0] == Approx(h[0]).margin(1e-6));
  CHECK(y[1] == Approx(h[1]).margin(1e-6));

  // SimpleRNN: h = tanh(x W + b + h U).
  g.cell = RnnCell::simple;
  std::vector<double> s(2, 0.0);
  for (int t = 0; t < 2; ++t) {
    std::vector<double> ns(2);
    for (int j = 0; j < 2; ++j) ns[size_t(j)] = std::tanh(z_of(t, s, j));
    s = ns;
  }
  backend->recurrent_forward(g, x.data(), kernel.data(), recurrent.data(), bias.data(), nullptr,
                             nullptr, y.data(), saved.data());
  CHECK(y[0] == Approx(s[0]).margin(1e-6));
  CHECK(y[1] == Approx(s[1]).margin(1e-6));

  // GRU (z, r, h), Keras 3's call(): reset_after with a recurrent bias, and without.
  g.cell = RnnCell::gru;
  for (bool reset_after : {true, false}) {
    g.reset_after = reset_after;
    // reset_after: bias (3U, 2), unit j's input bias at [2j], recurrent at [2j + 1].
    std::vector<float> gru_bias(reset_after ? 12 : 6);
    for (size_t i = 0; i < gru_bias.size(); ++i) gru_bias[i] = 0.02f * float(i) - 0.05f;
    const auto b_in = [&](int col) {
      return double(reset_after ? gru_bias[size_t(2 * col)] : gru_bias[size_t(col)]);
    };
    const auto b_rec = [&](int col) {
      return reset_after ? double(gru_bias[size_t(2 * col + 1)]) : 0.0;
    };
    const auto xk = [&](int t, int col) {
      double v = b_in(col);
      for (int k = 0; k < g.f; ++k) v += x[size_t(t * g.f + k)] * kernel[size_t(col * g.f + k)];
      return v;
    };
    const auto hu = [&](const std::vector<double>& v, int col) {
      double out = 0;
      for (int k = 0; k < g.u; ++k) out += v[size_t(k)] * recurrent[size_t(col * g.u + k)];
      return out;
    };
    std::vector<double> hg(2, 0.0);
    for (int t = 0; t < 2; ++t) {
      std::vector<double> z(2), r(2), nh(2);
      for (int j = 0; j < 2; ++j) {
        z[size_t(j)] = sigmoid(xk(t, j) + hu(hg, j) + b_rec(j));
        r[size_t(j)] = sigmoid(xk(t, 2 + j) + hu(hg, 2 + j) + b_rec(2 + j));
      }
      std::vector<double> rh(2);
      for (int k = 0; k < 2; ++k) rh[size_t(k)] = r[size_t(k)] * hg[size_t(k)];
      for (int j = 0; j < 2; ++j) {
        const double rec =
            reset_after ? r[size_t(j)] * (hu(hg, 4 + j) + b_rec(4 + j)) : hu(rh, 4 + j);
        const double hh = std::tanh(xk(t, 4 + j) + rec);
        nh[size_t(j)] = z[size_t(j)] * hg[size_t(j)] + (1 - z[size_t(j)]) * hh;
      }
      hg = nh;
    }
    std::vector<float> gru_saved(size_t(g.t) * g.saved_per_step());
    backend->recurrent_forward(g, x.data(), kernel.data(), recurrent.data(), gru_bias.data(),
                               nullptr, nullptr, y.data(), gru_saved.data());
    INFO("reset_after " << reset_after);
    CHECK(y[0] == Approx(hg[0]).margin(1e-6));
    CHECK(y[1] == Approx(hg[1]).margin(1e-6));
  }
}

TEST_CASE(
    "recurrent layers' gradients through time match finite differences, with and without "
    "dropout and recurrent_dropout",
    "[recurrent][gradient]") {
  check_gradients(sequence_model("  - lstm: {units: 3, return_sequences: true}\n"
                                 "  - simple_rnn: {units: 4, go_backwards: true}\n"
                                 "  - dense: {units: 10, activation: softmax}\n"),
                  3);
  check_gradients(sequence_model("  - lstm: {units: 3, dropout: 0.3, recurrent_dropout: 0.4, "
                                 "return_sequences: true, go_backwards: true}\n"
                                 "  - lstm: {units: 2, dropout: 0.25}\n"
                                 "  - dense: {units: 10, activation: softmax}\n"),
                  3);
  check_gradients(sequence_model("  - gru: {units: 3, dropout: 0.3, recurrent_dropout: 0.4, "
                                 "return_sequences: true}\n"
                                 "  - gru: {units: 3, reset_after: false, go_backwards: true, "
                                 "recurrent_dropout: 0.25}\n"
                                 "  - dense: {units: 10, activation: softmax}\n"),
                  3);
  check_gradients(sequence_model("  - gru: {units: 4, reset_after: false, dropout: 0.2}\n"
                                 "  - dense: {units: 10, activation: softmax}\n"),
                  3);
  check_gradients(sequence_model("  - simple_rnn: {units: 3, dropout: 0.3, recurrent_dropout: "
                                 "0.3, activation: sigmoid, return_sequences: true}\n"
                                 "  - flatten: {}\n"
                                 "  - dense: {units: 10, activation: softmax}\n"),
                  3);
}

namespace {

// One training step's outputs of layer 1 (after the reshape) for n images from [-1, 1), the
// model's parameters first set to `weights` (in parameters() order) where given.
std::vector<float> layer1_output(const RunConfig& config, int n,
                                 const std::vector<std::vector<float>>& weights = {}) {
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, n);
  for (size_t p = 0; p < weights.size(); ++p)
    backend->upload(weights[p].data(), model.parameters()[p]->value.data(), weights[p].size());
  const std::vector<float> x = test::random_floats(model.input_shape().size() * n, 5, -1.0f, 1.0f);
  std::vector<int32_t> y(n, 2);
  loss_of(model, *backend, x, y, n, true);
  return download(*backend, model.layer_output(1), model.layers()[1]->out_shape().size() * n);
}

std::vector<std::vector<float>> parameter_values(const RunConfig& config) {
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, 1);
  std::vector<std::vector<float>> out;
  for (Parameter* p : model.parameters())
    out.push_back(download(*backend, p->value.data(), p->size()));
  return out;
}

}  // namespace

TEST_CASE(
    "bidirectional is its layer run forwards and backwards, the backward steps flipped back and "
    "merged as Keras merges them",
    "[recurrent][wrappers]") {
  const int n = 3, t = 6, u = 3;
  const std::string head = "  - gru: {units: 3, return_sequences: true";
  const std::string tail = "  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n";
  const auto forward_copy = sequence_model(head + "}\n" + tail);
  const auto backward_copy = sequence_model(head + ", go_backwards: true}\n" + tail);
  for (const std::string merge : {"concat", "sum", "mul", "ave"}) {
    const RunConfig config = sequence_model("  - bidirectional: {merge_mode: " + merge +
                                            ", layer: {gru: {units: 3, return_sequences: "
                                            "true}}}\n" +
                                            tail);
    // The copies' weights: the wrapper's first three parameters, then the last three (the dense
    // after them is not read here).
    const std::vector<std::vector<float>> w = parameter_values(config);
    const std::vector<float> both = layer1_output(config, n);
    const std::vector<float> a = layer1_output(forward_copy, n, {w[0], w[1], w[2]});
    const std::vector<float> b = layer1_output(backward_copy, n, {w[3], w[4], w[5]});
    const int width = merge == "concat" ? 2 * u : u;
    REQUIRE(both.size() == size_t(n) * t * width);
    for (int i = 0; i < n; ++i)
      for (int s = 0; s < t; ++s)
        for (int k = 0; k < u; ++k) {
          const float fa = a[(size_t(i) * t + s) * u + k];
          const float fb = b[(size_t(i) * t + (t - 1 - s)) * u + k];  // flipped back
          const float* o = both.data() + (size_t(i) * t + s) * width;
          INFO(merge << " image " << i << " step " << s << " unit " << k);
          if (merge == "concat") {
            CHECK(o[k] == fa);
            CHECK(o[u + k] == fb);
          } else {
            CHECK(o[k] == (merge == "sum" ? fa + fb : merge == "mul" ? fa * fb : (fa + fb) / 2.0f));
          }
        }
  }
}

TEST_CASE("time_distributed applies its dense to every timestep", "[recurrent][wrappers]") {
  const RunConfig config = sequence_model(
      "  - time_distributed: {layer: {dense: {units: 4, activation: tanh}}}\n"
      "  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n");
  const int n = 2, t = 6, f = 5, u = 4;
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, n);
  const std::vector<float> x = test::random_floats(size_t(n) * t * f, 8, -1.0f, 1.0f);
  std::vector<int32_t> y(n, 1);
  loss_of(model, *backend, x, y, n, true);
  const std::vector<float> w = download(*backend, model.parameters()[0]->value.data(), u * f);
  const std::vector<float> b = download(*backend, model.parameters()[1]->value.data(), u);
  const std::vector<float> out = download(*backend, model.layer_output(1), size_t(n) * t * u);
  for (int row = 0; row < n * t; ++row)
    for (int k = 0; k < u; ++k) {
      double z = b[size_t(k)];  // the backend's dense kernel is (OUT, IN)
      for (int j = 0; j < f; ++j) z += double(x[size_t(row) * f + j]) * w[size_t(k) * f + j];
      INFO("row " << row << " unit " << k);
      CHECK(out[size_t(row) * u + k] == Approx(std::tanh(z)).margin(1e-6));
    }
}

TEST_CASE(
    "bidirectional (every merge mode) and time_distributed gradients match finite differences",
    "[recurrent][wrappers][gradient]") {
  for (const std::string merge : {"concat", "sum", "mul", "ave"})
    check_gradients(sequence_model("  - bidirectional: {merge_mode: " + merge +
                                   ", layer: {lstm: {units: 3, dropout: 0.3, recurrent_dropout: "
                                   "0.4, return_sequences: true}}}\n"
                                   "  - time_distributed: {layer: {dense: {units: 3, activation: "
                                   "tanh}}}\n"
                                   "  - bidirectional: {merge_mode: " +
                                   merge +
                                   ", layer: {gru: {units: 2, dropout: 0.2}}}\n"
                                   "  - dense: {units: 10, activation: softmax}\n"),
                    3);
}

// Which of the 5 features of layer `layer`'s output gradient (N, 6 steps, 5) are exactly zero at
// step t, image by image: the features a following layer's input dropout dropped.
static std::vector<std::vector<bool>> zero_features(Model& model, Backend& backend, size_t layer,
                                                    int n, int t) {
  const std::vector<float> dx = download(backend, model.layer_output_grad(layer), size_t(n) * 30);
  std::vector<std::vector<bool>> zero(size_t(n), std::vector<bool>(5));
  for (int b = 0; b < n; ++b)
    for (int f = 0; f < 5; ++f) zero[size_t(b)][size_t(f)] = dx[size_t(b) * 30 + t * 5 + f] == 0.0f;
  return zero;
}

TEST_CASE(
    "an input dropout mask is drawn once per sequence: the same features dropped at every "
    "timestep, other features for other images",
    "[recurrent]") {
  // A first lstm (5 units) feeds the masked one, so the masked one's input gradient is computed.
  const RunConfig config = sequence_model(
      "  - lstm: {units: 5, return_sequences: true}\n"
      "  - lstm: {units: 4, dropout: 0.5}\n"
      "  - dense: {units: 10, activation: softmax}\n");
  auto backend = make_backend("reference", BackendOptions{1, true});
  const int n = 6;
  Model model(config, *backend, n);
  const std::vector<float> x = test::random_floats(model.input_shape().size() * n, 2, 0.1f, 1.0f);
  std::vector<int32_t> y(n, 1);
  loss_of(model, *backend, x, y, n, true);
  // The first lstm's output gradient is the masked lstm's input gradient (N, T = 6, F = 5).
  REQUIRE_FALSE(model.output_grad_computed(0));  // the reshape: no parameter before it
  REQUIRE(model.output_grad_computed(1));
  const std::vector<std::vector<bool>> first = zero_features(model, *backend, 1, n, 0);
  for (int t = 1; t < 6; ++t) {
    INFO("step " << t);
    CHECK(zero_features(model, *backend, 1, n, t) == first);
  }
  const std::set<std::vector<bool>> patterns(first.begin(), first.end());
  CHECK(patterns.size() > 1);  // the images do not share one mask
}

TEST_CASE("two recurrent layers draw different dropout masks (each layer its own streams)",
          "[recurrent]") {
  // lstm_1 and lstm_2 both take 5 features with input dropout 0.5; the lstm before them makes
  // their input gradients, which are zero exactly at the dropped features.
  const RunConfig config = sequence_model(
      "  - lstm: {units: 5, return_sequences: true}\n"
      "  - lstm: {units: 5, dropout: 0.5, return_sequences: true}\n"
      "  - lstm: {units: 4, dropout: 0.5}\n"
      "  - dense: {units: 10, activation: softmax}\n");
  auto backend = make_backend("reference", BackendOptions{1, true});
  const int n = 6;
  Model model(config, *backend, n);
  const std::vector<float> x = test::random_floats(model.input_shape().size() * n, 4, 0.1f, 1.0f);
  std::vector<int32_t> y(n, 3);
  loss_of(model, *backend, x, y, n, true);
  const std::vector<std::vector<bool>> first = zero_features(model, *backend, 1, n, 0),
                                       second = zero_features(model, *backend, 2, n, 0);
  const auto any_dropped = [](const std::vector<std::vector<bool>>& zero) {
    return std::any_of(zero.begin(), zero.end(), [](const std::vector<bool>& image) {
      return image != std::vector<bool>(5);
    });
  };
  CHECK(any_dropped(first));
  CHECK(any_dropped(second));
  CHECK(first != second);  // 30 draws of rate 0.5 alike by chance: 2^-30
}

TEST_CASE(
    "an lstm with both dropouts gives the same bits on every CPU backend, thread count and "
    "portable ISA path",
    "[recurrent][threads]") {
  const RunConfig config = sequence_model(
      "  - lstm: {units: 6, dropout: 0.2, recurrent_dropout: 0.3, return_sequences: true}\n"
      "  - gru: {units: 5, dropout: 0.1, recurrent_dropout: 0.2, return_sequences: true}\n"
      "  - simple_rnn: {units: 5}\n"
      "  - dense: {units: 10, activation: softmax}\n");
  // Every layer's output and every gradient on one backend; the recurrent layers' outputs (whose
  // forward is the same code everywhere) across backends.
  auto run = [&](const std::string& name, int threads) {
    auto backend = make_backend(name, BackendOptions{threads, true});
    Model model(config, *backend, 19);
    const std::vector<float> x =
        test::random_floats(model.input_shape().size() * 19, 3, 0.0f, 1.0f);
    std::vector<int32_t> y(19);
    for (int i = 0; i < 19; ++i) y[i] = i % 10;
    loss_of(model, *backend, x, y, 19, true);
    std::vector<std::vector<float>> all;
    for (size_t l = 0; l < model.layers().size(); ++l) {
      const size_t count = model.layers()[l]->out_shape().size() * 19;
      all.push_back(download(*backend, model.layer_output(l), count));
    }
    for (Parameter* p : model.parameters())
      all.push_back(download(*backend, p->grad.data(), p->size()));
    return all;
  };
  const auto reference = run("reference", 1), onednn = run("onednn", 1);
  for (size_t l = 0; l < 4; ++l) CHECK(onednn[l] == reference[l]);
  CHECK(run("onednn", 3) == onednn);
  const auto portable = run("portable", 1);
  for (size_t l = 0; l < 4; ++l) CHECK(portable[l] == reference[l]);
  CHECK(run("portable", 2) == portable);
}

}  // namespace repro
