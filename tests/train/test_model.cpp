// Whole-model checks: the reference backend's gradients against central finite differences of
// the loss (tiny models touching every layer kind), oneDNN against the reference for a full
// forward and backward pass, and the Keras-layout weight export.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "backend/backend.h"
#include "backend/reference/host_backend.h"
#include "backend/reference/reference_ops.h"
#include "core/error.h"
#include "model_checks.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "train_helpers.h"

namespace repro {
namespace {

using test::conv;
using test::dense;
using test::dropout;
using test::pool;
using test::simple;

// All weights' values, concatenated in weights() order, Keras layout.
std::vector<float> weight_values(const Model& model) {
  std::vector<float> all;
  for (const NamedTensor& t : model.export_weights())
    all.insert(all.end(), t.data.begin(), t.data.end());
  return all;
}

using test::check_gradients;
using test::download;
using test::loss_of;

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float f : v) m = std::max(m, std::fabs(double(f)));
  return m;
}

// max |a - b| relative to max |b|: the tolerance the backend issue names (1e-5).
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
  return diff / std::max(max_abs(b), 1e-30);
}

RunConfig recipe_like(int side) {
  return test::model_config(
      side, side,
      {conv(8, 3, Activation::relu), pool(2), dropout(0.2), conv(8, 3, Activation::relu), pool(2),
       dropout(0.2), conv(8, 3, Activation::relu), simple(LayerKind::global_average_pooling2d),
       dense(16, Activation::relu), dropout(0.2), dense(10, Activation::softmax)});
}

// oneDNN (2 threads) against the reference on a full batch of 9 and a last batch of 4: logits,
// every parameter gradient and the evaluation logits within `tolerance` (1e-5).
void compare_backends(const RunConfig& config, double tolerance = 1e-5) {
  auto reference = make_backend("reference", BackendOptions{1, true});
  auto onednn = make_backend("onednn", BackendOptions{2, true});
  for (int n : {9, 4}) {  // a full batch, then a smaller last batch
    Model a(config, *reference, 9), b(config, *onednn, 9);
    const std::vector<float> x = test::random_floats(a.input_shape().size() * n, 2, 0.0f, 1.0f);
    std::vector<int32_t> y(n);
    for (int i = 0; i < n; ++i) y[i] = (3 * i) % 10;
    ForwardContext ctx{true, 5, 17};
    const std::vector<float> logits_a =
        download(*reference, a.forward(x.data(), n, ctx), size_t(n) * 10);
    const std::vector<float> logits_b =
        download(*onednn, b.forward(x.data(), n, ctx), size_t(n) * 10);
    CHECK(relative_error(logits_b, logits_a) <= tolerance);
    reference->softmax_cross_entropy(a.forward(x.data(), n, ctx), y.data(), n, 10, a.dlogits(),
                                     1.0f / n);
    onednn->softmax_cross_entropy(b.forward(x.data(), n, ctx), y.data(), n, 10, b.dlogits(),
                                  1.0f / n);
    a.backward(n);
    b.backward(n);
    for (size_t i = 0; i < a.parameters().size(); ++i) {
      const Parameter& pa = *a.parameters()[i];
      const Parameter& pb = *b.parameters()[i];
      INFO(pa.name << " batch " << n);
      CHECK(relative_error(download(*onednn, pb.grad.data(), pb.size()),
                           download(*reference, pa.grad.data(), pa.size())) <= tolerance);
    }
    const ForwardContext eval{false, 5, 17};
    CHECK(relative_error(download(*onednn, b.forward(x.data(), n, eval), size_t(n) * 10),
                         download(*reference, a.forward(x.data(), n, eval), size_t(n) * 10)) <=
          1e-5);
  }
}

LayerConfig avg_pool(int size, int stride, Padding padding) {
  LayerConfig l = simple(LayerKind::average_pooling2d);
  l.pool_size = {size, size};
  l.strides = {stride, stride};
  l.padding = padding;
  return l;
}

LayerConfig batch_norm() { return simple(LayerKind::batch_normalization); }

// A layer before batch norm needs no bias (its gradient is zero: the norm removes any shift).
LayerConfig no_bias(LayerConfig l) {
  l.use_bias = false;
  return l;
}

LayerConfig activation(Activation a) {
  LayerConfig l = simple(LayerKind::activation);
  l.activation = a;
  return l;
}

}  // namespace

TEST_CASE("model gradients match finite differences: conv same, pool, dropout, flatten, dense",
          "[model]") {
  check_gradients(test::model_config(6, 6,
                                     {conv(3, 3, Activation::relu, Padding::same), pool(2),
                                      dropout(0.25), simple(LayerKind::flatten),
                                      dense(5, Activation::relu), dense(4, Activation::softmax)}),
                  3);
}

TEST_CASE("model gradients match finite differences: strided conv, gap, linear layers", "[model]") {
  check_gradients(
      test::model_config(
          7, 7,
          {conv(3, 3, Activation::linear, Padding::valid, 2),
           conv(4, 2, Activation::relu, Padding::same), simple(LayerKind::global_average_pooling2d),
           dense(6, Activation::linear), dropout(0.3), dense(3, Activation::softmax)}),
      4);
}

TEST_CASE(
    "model gradients match finite differences: average pooling, activation layers, "
    "sigmoid and tanh on conv and dense",
    "[model]") {
  check_gradients(
      test::model_config(
          7, 7,
          {conv(3, 3, Activation::sigmoid, Padding::same), avg_pool(2, 2, Padding::same),
           conv(4, 2, Activation::tanh, Padding::valid, 2), activation(Activation::tanh),
           avg_pool(3, 1, Padding::same), simple(LayerKind::flatten), dense(6, Activation::tanh),
           activation(Activation::sigmoid), dense(3, Activation::linear),
           activation(Activation::softmax)}),
      4);
}

TEST_CASE("model gradients match finite differences through batch normalization", "[model]") {
  check_gradients(test::model_config(6, 6,
                                     {conv(3, 3, Activation::linear, Padding::same), batch_norm(),
                                      activation(Activation::tanh), avg_pool(2, 2, Padding::valid),
                                      simple(LayerKind::flatten), dense(5, Activation::linear),
                                      batch_norm(), dense(4, Activation::softmax)}),
                  10);
}

TEST_CASE("batch norm's moving statistics are weights of the model but not parameters", "[model]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(test::model_config(6, 6,
                                 {conv(3, 3, Activation::linear), batch_norm(),
                                  simple(LayerKind::flatten), dense(4, Activation::softmax)}),
              *backend, 2);
  std::vector<std::string> names;
  for (const Parameter* p : model.weights()) names.push_back(p->name);
  CHECK(names == std::vector<std::string>{
                     "conv2d/kernel", "conv2d/bias", "batch_normalization/gamma",
                     "batch_normalization/beta", "batch_normalization/moving_mean",
                     "batch_normalization/moving_variance", "dense/kernel", "dense/bias"});
  CHECK(model.parameters().size() == 6);
  // A training forward moves the statistics; an evaluation forward does not.
  const std::vector<float> x = test::random_floats(36 * 2, 4, 0.0f, 1.0f);
  const std::vector<float> before = weight_values(model);
  model.forward(x.data(), 2, ForwardContext{false, 1, 0});
  CHECK(weight_values(model) == before);
  model.forward(x.data(), 2, ForwardContext{true, 1, 0});
  CHECK(weight_values(model) != before);
  // They export and import with the rest.
  Model copy(test::model_config(6, 6,
                                {conv(3, 3, Activation::linear), batch_norm(),
                                 simple(LayerKind::flatten), dense(4, Activation::softmax)}),
             *backend, 2);
  copy.import_weights(model.export_weights());
  CHECK(weight_values(copy) == weight_values(model));
}

TEST_CASE("onednn and reference agree on a whole-model forward and backward within 1e-5",
          "[model][onednn]") {
  compare_backends(recipe_like(20));
}

TEST_CASE("onednn and reference agree on average pooling, activation layers and sigmoid / tanh",
          "[model][onednn]") {
  compare_backends(test::model_config(
      14, 14,
      {conv(16, 3, Activation::linear, Padding::same), activation(Activation::relu),
       avg_pool(2, 2, Padding::valid), conv(16, 3, Activation::sigmoid, Padding::same, 2),
       avg_pool(3, 2, Padding::same), activation(Activation::tanh), simple(LayerKind::flatten),
       dense(12, Activation::tanh), dense(10, Activation::linear),
       activation(Activation::softmax)}));
}

TEST_CASE("onednn applies sigmoid and tanh on convolutions whose outputs stay in channel blocks",
          "[model][onednn]") {
  const RunConfig config = test::model_config(
      12, 12,
      {conv(16, 3, Activation::tanh, Padding::same),
       conv(16, 3, Activation::sigmoid, Padding::same), pool(2), conv(16, 3, Activation::relu),
       simple(LayerKind::global_average_pooling2d), dense(10, Activation::softmax)});
  auto onednn = make_backend("onednn", BackendOptions{2, true});
  Model model(config, *onednn, 9);
  if (onednn->channel_block(16) > 1) CHECK(model.channel_block(1) > 1);  // conv -> conv blocked
  compare_backends(config);
}

// Batch norm's backward divides by the batch's standard deviation and subtracts nearly equal
// sums, which doubles the relative size of oneDNN's float32 convolution rounding: 2e-5 here.
TEST_CASE("onednn and reference agree on batch normalization in a model", "[model][onednn]") {
  compare_backends(
      test::model_config(
          12, 12,
          {no_bias(conv(16, 3, Activation::linear, Padding::same)), batch_norm(),
           activation(Activation::relu), pool(2), conv(16, 3, Activation::relu, Padding::same, 2),
           batch_norm(), simple(LayerKind::flatten), dense(12, Activation::relu), batch_norm(),
           dense(10, Activation::softmax)}),
      2e-5);
}

TEST_CASE("onednn keeps channel blocks between image layers and shows plain layer outputs",
          "[model][onednn][layout]") {
  // 32 filters: the recipe's channel count. The last dropout sits between a conv and flatten,
  // so both its sides stay plain.
  const RunConfig config = test::model_config(
      16, 16,
      {conv(32, 3, Activation::relu), pool(2), dropout(0.2), conv(32, 3, Activation::relu),
       dropout(0.3), simple(LayerKind::flatten), dense(10, Activation::softmax)});
  auto reference = make_backend("reference", BackendOptions{1, true});
  auto onednn = make_backend("onednn", BackendOptions{2, true});
  const int n = 9;
  Model a(config, *reference, n), b(config, *onednn, n);
  const int block = onednn->channel_block(32);
  CHECK(b.channel_block(0) == 1);  // the host's input
  for (size_t i = 1; i <= 3; ++i) CHECK(b.channel_block(i) == block);
  CHECK(b.channel_block(4) == 1);
  CHECK(b.channel_block(5) == 1);
  for (size_t i = 0; i <= b.layers().size(); ++i) CHECK(a.channel_block(i) == 1);

  const std::vector<float> x = test::random_floats(a.input_shape().size() * n, 4, 0.0f, 1.0f);
  std::vector<int32_t> y(n);
  for (int i = 0; i < n; ++i) y[i] = i % 10;
  ForwardContext ctx{true, 5, 3};
  reference->softmax_cross_entropy(a.forward(x.data(), n, ctx), y.data(), n, 10, a.dlogits(),
                                   1.0f / n);
  onednn->softmax_cross_entropy(b.forward(x.data(), n, ctx), y.data(), n, 10, b.dlogits(),
                                1.0f / n);
  a.backward(n);
  b.backward(n);
  for (size_t i = 0; i < a.layers().size(); ++i) {
    const size_t count = a.layers()[i]->out_shape().size() * n;
    INFO(a.layers()[i]->name());
    CHECK(relative_error(download(*onednn, b.layer_output(i), count),
                         download(*reference, a.layer_output(i), count)) <= 1e-5);
    const std::string kind = a.layers()[i]->kind();
    if (kind == "pool" || kind == "dropout") {
      // Conv and dense layers may use the gradient at their output as scratch (the relu mask),
      // each backend its own way; pool and dropout leave it as it came.
      CHECK(relative_error(download(*onednn, b.layer_output_grad(i), count),
                           download(*reference, a.layer_output_grad(i), count)) <= 1e-5);
    }
  }
  for (size_t i = 0; i < a.parameters().size(); ++i) {
    INFO(a.parameters()[i]->name);
    CHECK(relative_error(
              download(*onednn, b.parameters()[i]->grad.data(), b.parameters()[i]->size()),
              download(*reference, a.parameters()[i]->grad.data(), a.parameters()[i]->size())) <=
          1e-5);
  }
}

TEST_CASE("weights export in Keras layout, named like Keras, and import back", "[model]") {
  const RunConfig config =
      test::model_config(5, 5,
                         {conv(2, 3, Activation::relu), conv(3, 2, Activation::relu),
                          simple(LayerKind::flatten), dense(4, Activation::softmax)});
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, 2);
  const std::vector<NamedTensor> weights = model.export_weights();
  REQUIRE(weights.size() == 6);
  CHECK(weights[0].name == "conv2d/kernel");
  CHECK(weights[0].shape == std::vector<int64_t>{3, 3, 1, 2});
  CHECK(weights[2].name == "conv2d_1/kernel");
  CHECK(weights[2].shape == std::vector<int64_t>{2, 2, 2, 3});
  CHECK(weights[4].name == "dense/kernel");
  CHECK(weights[4].shape == std::vector<int64_t>{12, 4});
  CHECK(weights[5].name == "dense/bias");
  CHECK(weights[5].data == std::vector<float>(4, 0.0f));

  // Keras (kh, kw, in, out) element [1][2][0][1] is backend (K, C, R, S) element [1][0][1][2].
  const Parameter& kernel = *model.parameters()[0];
  const std::vector<float> raw = download(*backend, kernel.value.data(), kernel.size());
  CHECK(weights[0].data[((1 * 3 + 2) * 1 + 0) * 2 + 1] == raw[((1 * 1 + 0) * 3 + 1) * 3 + 2]);

  // The unseeded kernels get different seeds from the run's stream: different draws.
  CHECK(weights[0].data != std::vector<float>(weights[0].data.size(), weights[0].data[0]));

  std::vector<NamedTensor> changed = weights;
  changed[4].data[7] = 0.25f;
  model.import_weights(changed);
  CHECK(model.export_weights()[4].data[7] == 0.25f);
  changed[4].shape = {4, 27};
  CHECK_THROWS_AS(model.import_weights(changed), InputError);
}

TEST_CASE("the same seed draws the same weights, and another seed draws others", "[model]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  RunConfig config = recipe_like(20);
  Model a(config, *backend, 1), b(config, *backend, 1);
  config.seed += 1;
  Model c(config, *backend, 1);
  CHECK(weight_values(a) == weight_values(b));
  CHECK(weight_values(a) != weight_values(c));
}

TEST_CASE("softmax before the last layer and dense on an image input are refused", "[model]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  CHECK_THROWS_AS(Model(test::model_config(6, 6, {dense(4, Activation::relu)}), *backend, 1),
                  InputError);
  CHECK_THROWS_AS(
      Model(test::model_config(6, 6,
                               {simple(LayerKind::flatten), dense(4, Activation::softmax),
                                dense(4, Activation::softmax)}),
            *backend, 1),
      InputError);
  CHECK_THROWS_AS(
      Model(test::model_config(6, 6,
                               {simple(LayerKind::flatten), dense(4, Activation::linear),
                                activation(Activation::softmax), dense(4, Activation::linear)}),
            *backend, 1),
      InputError);
}

TEST_CASE("every layer's output shape is the one config's infer_shapes gives") {
  const std::string layers[] = {
      // Windows valid and same, strides 1 and 2, odd sizes; every layer kind once.
      "  - random_flip: {mode: horizontal, seed: 1}\n"
      "  - random_translation: {height_factor: 0.1, width_factor: 0.1}\n"
      "  - random_zoom: {height_factor: 0.1}\n"
      "  - conv2d: {filters: 5, kernel_size: [3, 2], strides: 2, padding: same}\n"
      "  - batch_normalization: {}\n"
      "  - activation: {activation: relu}\n"
      "  - max_pooling2d: {pool_size: 2}\n"
      "  - average_pooling2d: {pool_size: 3, strides: 1, padding: same}\n"
      "  - dropout: {rate: 0.5}\n"
      "  - conv2d: {filters: 3, kernel_size: 2, padding: valid}\n"
      "  - global_average_pooling2d: {}\n"
      "  - dense: {units: 10, activation: softmax}\n",
      "  - conv2d: {filters: 4, kernel_size: 5, strides: [2, 3]}\n"
      "  - average_pooling2d: {pool_size: [2, 1]}\n"
      "  - max_pooling2d: {pool_size: 2, strides: 1, padding: same}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 7, activation: relu}\n"
      "  - dense: {units: 10, activation: softmax}\n"};
  for (const std::string& model : layers) {
    const RunConfig config =
        parse_config("seed: 1\ndata: {resize: [23, 19]}\nmodel:\n" + model, "shapes.yaml");
    auto backend = make_backend("reference", BackendOptions{1, true});
    const Model built(config, *backend, 4);
    const std::vector<LayerShape> inferred = infer_shapes(config);
    REQUIRE(built.layers().size() == inferred.size());
    for (size_t i = 0; i < inferred.size(); ++i) {
      const FeatureShape& s = built.layers()[i]->out_shape();
      const std::vector<int64_t> keras =
          s.flat ? std::vector<int64_t>{s.c} : std::vector<int64_t>{s.h, s.w, s.c};
      INFO(inferred[i].name);
      CHECK(keras == inferred[i].output);
    }
  }
}

// A CPU backend that runs none of the optional ops, as a GPU backend may not.
class NoOptionalOps : public HostBackend {
 public:
  NoOptionalOps() : HostBackend(1) {}
  std::string name() const override { return "bare"; }
  std::string describe() const override { return "bare"; }
  bool supports(OptionalOp) const override { return false; }
};

TEST_CASE("a layer or optimizer the backend does not run is refused when the model is built") {
  NoOptionalOps bare;
  const std::string head = "seed: 1\ndata: {resize: [8, 8]}\nmodel:\n";
  const std::string tail = "  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n";
  const std::pair<std::string, std::string> cases[] = {
      {"  - batch_normalization: {}\n", "does not run batch_normalization"},
      {"  - average_pooling2d: {pool_size: 2}\n", "does not run average_pooling2d"},
      {"  - random_flip: {mode: horizontal}\n", "does not run random image augmentation"},
      {"  - conv2d: {filters: 2, kernel_size: 3, activation: tanh}\n",
       "does not run element-wise activations"},
      {"  - activation: {activation: relu}\n", "does not run element-wise activations"}};
  for (const auto& [layer, message] : cases) {
    const RunConfig config = parse_config(head + layer + tail, "bare.yaml");
    INFO(layer);
    CHECK_THROWS_WITH(Model(config, bare, 4), Catch::Contains("bare.yaml:4:") &&
                                                  Catch::Contains(message) &&
                                                  Catch::Contains("device: cpu"));
  }
  // The layers every backend runs need none of them.
  const std::string plain =
      "  - conv2d: {filters: 2, kernel_size: 3, activation: relu}\n"
      "  - max_pooling2d: {pool_size: 2}\n  - dropout: {rate: 0.5}\n";
  CHECK_NOTHROW(Model(parse_config(head + plain + tail, "bare.yaml"), bare, 4));
  CHECK_NOTHROW(Model(parse_config(head + "  - global_average_pooling2d: {}\n" +
                                       "  - dense: {units: 10, activation: softmax}\n",
                                   "bare.yaml"),
                      bare, 4));
  OptimizerConfig rmsprop;
  rmsprop.name = "rmsprop";
  CHECK_THROWS_WITH(make_optimizer(rmsprop, bare, {"w"}, {4}),
                    Catch::Contains("the bare backend does not run the rmsprop optimizer"));
}

}  // namespace repro

namespace repro {
namespace {

LayerConfig named(LayerConfig l, const std::string& name, std::vector<std::string> inputs = {}) {
  l.name = name;
  l.inputs = std::move(inputs);
  return l;
}

LayerConfig merge(LayerKind kind, const std::string& name, std::vector<std::string> inputs) {
  return named(simple(kind), name, std::move(inputs));
}

// A residual block (a conv's output taken by the next conv and by the add: two gradients summed)
// then a head of `classes` (compare_backends wants 10). tanh, not relu, before the fan-out: the
// finite differences would cross relu's kink.
RunConfig residual_config(int classes = 4) {
  return test::model_config(
      6, 6,
      {named(conv(3, 3, Activation::tanh, Padding::same), "a"),
       named(conv(3, 3, Activation::linear, Padding::same), "b"),
       merge(LayerKind::add, "sum", {"a", "b"}), named(activation(Activation::tanh), "act"),
       named(simple(LayerKind::flatten), "flat"),
       named(dense(classes, Activation::softmax), "out")});
}

// Every merge: one conv's output taken by four layers, multiply, average (of three), subtract,
// concatenated on channels.
RunConfig merges_config(int classes = 3) {
  return test::model_config(5, 5,
                            {named(conv(2, 3, Activation::tanh, Padding::same), "a"),
                             named(conv(2, 3, Activation::tanh, Padding::same), "b", {"a"}),
                             named(conv(2, 1, Activation::sigmoid, Padding::same), "c", {"a"}),
                             merge(LayerKind::multiply, "m", {"b", "c"}),
                             merge(LayerKind::average, "avg", {"a", "b", "c"}),
                             merge(LayerKind::subtract, "s", {"c", "b"}),
                             merge(LayerKind::concatenate, "cat", {"m", "avg", "s"}),
                             named(simple(LayerKind::flatten), "flat"),
                             named(dense(classes, Activation::softmax), "out")});
}

}  // namespace

TEST_CASE("layer graphs: gradients through add and a shared output match finite differences",
          "[model][graph]") {
  check_gradients(residual_config(), 3);
}

TEST_CASE("layer graphs: multiply, average, subtract and concatenate match finite differences",
          "[model][graph]") {
  check_gradients(merges_config(), 3);
}

TEST_CASE("layer graphs: onednn and reference agree on a graph's forward and backward",
          "[model][graph][onednn]") {
  compare_backends(merges_config(10));
  compare_backends(residual_config(10));
}

TEST_CASE("merge layers compute Keras's values: folded left, average by the count",
          "[model][graph]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  const std::vector<float> a{1.0f, -2.0f, 3.0f}, b{0.5f, 4.0f, -1.0f}, c{2.0f, 2.0f, 0.25f};
  std::vector<float> y(3);
  const std::vector<const float*> abc{a.data(), b.data(), c.data()};
  backend->merge_forward(MergeFn::add, abc, y.data(), 3);
  CHECK(y == std::vector<float>{3.5f, 4.0f, 2.25f});
  backend->merge_forward(MergeFn::multiply, abc, y.data(), 3);
  CHECK(y == std::vector<float>{1.0f, -16.0f, -0.75f});
  backend->merge_forward(MergeFn::average, abc, y.data(), 3);
  CHECK(y == std::vector<float>{3.5f / 3.0f, 4.0f / 3.0f, 2.25f / 3.0f});
  backend->merge_forward(MergeFn::subtract, {a.data(), b.data()}, y.data(), 3);
  CHECK(y == std::vector<float>{0.5f, -6.0f, 4.0f});
  // multiply's gradient for b: dy times a * c.
  const std::vector<float> dy{1.0f, 0.5f, -2.0f};
  std::vector<float> db(3);
  backend->merge_backward(MergeFn::multiply, abc, dy.data(), {nullptr, db.data(), nullptr}, 3);
  CHECK(db == std::vector<float>{2.0f, -2.0f, -1.5f});
  // concatenate on channels: 2 images of (1, 2) and (2, 2) channels x pixels into (3, 2).
  const std::vector<float> p{1, 2, 3, 4}, q{5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<float> cat(12);
  backend->concat_forward({p.data(), q.data()}, {1, 2}, 2, 2, cat.data());
  CHECK(cat == std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
}

TEST_CASE("a plain list runs as before: its layers take the previous output, blocks unchanged",
          "[model][graph]") {
  const RunConfig list = recipe_like(16);
  REQUIRE_FALSE(is_graph(list));
  const auto inputs = layer_inputs(list);
  for (size_t i = 0; i < inputs.size(); ++i) REQUIRE(inputs[i] == std::vector<int>{int(i) - 1});
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "elu, leaky_relu, softplus and hard_sigmoid: Keras's values and finite-difference gradients",
    "[model][activation]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  const std::vector<float> x{-4.0f, -1.0f, -0.5f, 0.0f, 0.5f, 2.0f, 4.0f};
  std::vector<float> y(x.size());
  backend->activation_forward(ActivationFn::elu, x.data(), y.data(), x.size());
  CHECK(y[1] == std::expm1(-1.0f));
  CHECK(y[5] == 2.0f);
  backend->activation_forward(ActivationFn::leaky_relu, x.data(), y.data(), x.size());
  CHECK(y[2] == -0.5f * 0.2f);
  CHECK(y[3] == 0.0f);
  backend->activation_forward(ActivationFn::softplus, x.data(), y.data(), x.size());
  CHECK(y[3] == std::log1p(1.0f));
  CHECK(std::fabs(y[6] - 4.0181499f) < 1e-6f);
  backend->activation_forward(ActivationFn::hard_sigmoid, x.data(), y.data(), x.size());
  CHECK(y ==
        std::vector<float>{0.0f, 2.0f / 6.0f, 2.5f / 6.0f, 0.5f, 3.5f / 6.0f, 5.0f / 6.0f, 1.0f});

  check_gradients(test::model_config(
                      6, 6,
                      {conv(3, 3, Activation::elu, Padding::same), activation(Activation::softplus),
                       conv(2, 3, Activation::hard_sigmoid, Padding::valid),
                       simple(LayerKind::flatten), dense(5, Activation::softplus),
                       dense(4, Activation::elu), dense(3, Activation::softmax)}),
                  3);
  // leaky_relu has relu's kink, which the finite differences (step 1e-2) cross: its derivative is
  // checked on values, and in a model against oneDNN below.
  const std::vector<float> dy{1.0f, 2.0f, -3.0f, 4.0f, 1.0f, 1.0f, 1.0f};
  std::vector<float> dx(x.size());
  backend->activation_forward(ActivationFn::leaky_relu, x.data(), y.data(), x.size());
  backend->activation_backward(ActivationFn::leaky_relu, nullptr, y.data(), dy.data(), dx.data(),
                               x.size());
  CHECK(dx == std::vector<float>{0.2f, 2.0f * 0.2f, -3.0f * 0.2f, 4.0f, 1.0f, 1.0f, 1.0f});
  backend->activation_forward(ActivationFn::hard_sigmoid, x.data(), y.data(), x.size());
  backend->activation_backward(ActivationFn::hard_sigmoid, nullptr, y.data(), dy.data(), dx.data(),
                               x.size());
  CHECK(dx == std::vector<float>{0.0f, 2.0f / 6.0f, -3.0f / 6.0f, 4.0f / 6.0f, 1.0f / 6.0f,
                                 1.0f / 6.0f, 0.0f});
}

TEST_CASE("the new activations agree across reference, onednn and portable",
          "[model][activation]") {
  const RunConfig config = test::model_config(
      7, 7,
      {conv(4, 3, Activation::elu, Padding::same), activation(Activation::leaky_relu),
       conv(4, 3, Activation::softplus, Padding::same, 2), simple(LayerKind::flatten),
       dense(6, Activation::hard_sigmoid), dense(10, Activation::softmax)});
  compare_backends(config);
  // portable against the reference: its own exp and log, within float rounding.
  auto reference = make_backend("reference", BackendOptions{1, true});
  auto portable = make_backend("portable", BackendOptions{2, true});
  Model a(config, *reference, 4), b(config, *portable, 4);
  const std::vector<float> x = test::random_floats(a.input_shape().size() * 4, 3, -1.0f, 1.0f);
  const ForwardContext eval{false, 5, 1};
  CHECK(relative_error(download(*portable, b.forward(x.data(), 4, eval), 40),
                       download(*reference, a.forward(x.data(), 4, eval), 40)) <= 1e-5);
}

}  // namespace repro

namespace repro {

TEST_CASE("maximum and minimum merges: values and JAX's split of a tie through the fold",
          "[model][graph]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  const std::vector<float> a{1.0f, 5.0f, 2.0f}, b{3.0f, 5.0f, 2.0f}, c{2.0f, 1.0f, 2.0f};
  const std::vector<const float*> abc{a.data(), b.data(), c.data()};
  std::vector<float> y(3);
  backend->merge_forward(MergeFn::maximum, abc, y.data(), 3);
  CHECK(y == std::vector<float>{3.0f, 5.0f, 2.0f});
  backend->merge_forward(MergeFn::minimum, abc, y.data(), 3);
  CHECK(y == std::vector<float>{1.0f, 1.0f, 2.0f});
  // max(max(a, b), c): element 0 goes to b; element 1 ties a and b (half each); element 2 ties
  // all three: the outer max halves between max(a, b) and c, the inner halves again.
  const std::vector<float> dy{4.0f, 4.0f, 4.0f};
  std::vector<float> da(3), db(3), dc(3);
  backend->merge_backward(MergeFn::maximum, abc, dy.data(), {da.data(), db.data(), dc.data()}, 3);
  CHECK(da == std::vector<float>{0.0f, 2.0f, 1.0f});
  CHECK(db == std::vector<float>{4.0f, 2.0f, 1.0f});
  CHECK(dc == std::vector<float>{0.0f, 0.0f, 2.0f});

  // (No finite differences here: max and min switch branches within the step of 1e-2 wherever
  // two inputs are close, the kink relu has too; the rule is checked on values above.)
}

}  // namespace repro

namespace repro {

TEST_CASE("global_max_pooling2d and zero_padding2d: values, ties shared, gradients",
          "[model][layers]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  // Two planes of 2x2: the second has a tie for its maximum.
  const std::vector<float> x{1.0f, 4.0f, -2.0f, 3.0f, 5.0f, 0.0f, 5.0f, 5.0f};
  std::vector<float> y(2), dx(8);
  backend->global_max_pool_forward(x.data(), y.data(), 1, 2, 4);
  CHECK(y == std::vector<float>{4.0f, 5.0f});
  const std::vector<float> dy{3.0f, 6.0f};
  backend->global_max_pool_backward(x.data(), y.data(), dy.data(), dx.data(), 1, 2, 4);
  CHECK(dx == std::vector<float>{0.0f, 3.0f, 0.0f, 0.0f, 2.0f, 0.0f, 2.0f, 2.0f});
  // zero_padding2d {top 1, bottom 0, left 2, right 1} of one 2x2 plane into 3x5, and back.
  const std::vector<float> p{1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> padded(15), back(4);
  backend->zero_pad2d_forward(p.data(), padded.data(), 1, 1, 2, 2, {1, 0, 2, 1});
  CHECK(padded == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 4, 0});
  backend->zero_pad2d_backward(padded.data(), back.data(), 1, 1, 2, 2, {1, 0, 2, 1});
  CHECK(back == p);

  LayerConfig pad = simple(LayerKind::zero_padding2d);
  pad.zero_padding = {1, 2, 0, 1};
  check_gradients(test::model_config(5, 5,
                                     {pad, conv(2, 3, Activation::tanh, Padding::valid),
                                      simple(LayerKind::flatten), dense(3, Activation::softmax)}),
                  3);
  // (global max pooling: its finite differences switch the maximum; checked on values above.)
  compare_backends(test::model_config(
      8, 8,
      {conv(4, 3, Activation::relu, Padding::same), pad, conv(4, 3, Activation::linear),
       simple(LayerKind::global_max_pooling2d), dense(10, Activation::softmax)}));
}

}  // namespace repro

namespace repro {

TEST_CASE("reshape lays the values out in Keras's (H, W, C) order, and its gradients",
          "[model][layers]") {
  LayerConfig to_flat = simple(LayerKind::reshape);
  to_flat.target_shape = {-1};
  LayerConfig to_image = simple(LayerKind::reshape);
  to_image.target_shape = {2, -1, 3};
  LayerConfig regroup = simple(LayerKind::reshape);
  regroup.target_shape = {3, 4, 2};
  // A flat (12) input reshaped to (2, 2, 3) is Keras's (H, W, C): channel c of pixel (h, w) is
  // element (h * 2 + w) * 3 + c, which our (C, H, W) buffer holds at c * 4 + h * 2 + w.
  RunConfig config = test::model_config(2, 2, {to_image});
  auto backend = make_backend("reference", BackendOptions{1, true});
  FeatureShape flat{12, 1, 1, true};
  InitSeeds seeds;
  auto layer = make_layer(to_image, 0, false, flat, FeatureShape{3, 2, 2, false}, *backend, seeds);
  std::vector<float> x(12), y(12);
  for (int i = 0; i < 12; ++i) x[i] = float(i);
  layer->forward(x.data(), y.data(), 1, ForwardContext{});
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p) CHECK(y[c * 4 + p] == float(p * 3 + c));

  check_gradients(
      test::model_config(
          4, 3,
          {conv(2, 3, Activation::tanh, Padding::same), regroup, conv(2, 1, Activation::tanh),
           to_flat, dense(12, Activation::tanh), to_image, conv(2, 2, Activation::linear),
           simple(LayerKind::flatten), dense(3, Activation::softmax)}),
      3);
}

}  // namespace repro

namespace repro {

TEST_CASE("config validation and the model infer the same shapes for every config in configs/",
          "[model]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(REPRO_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    const RunConfig config = load_config(entry.path().string());
    const std::vector<LayerShape> shapes = infer_shapes(config);
    const Model model(config, *backend, 2);
    REQUIRE(model.layers().size() == shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
      Layer& layer = *model.layers()[i];
      const FeatureShape& out = layer.out_shape();
      const std::vector<int64_t> dims = out.flat  ? std::vector<int64_t>{out.c}
                                        : out.seq ? std::vector<int64_t>{out.h, out.c}
                                                  : std::vector<int64_t>{out.h, out.w, out.c};
      INFO(shapes[i].name);
      CHECK(layer.name() == shapes[i].name);
      CHECK(dims == shapes[i].output);
      // The summary's Param # counts (inferred from the config alone) are the weights the
      // layer made from its shapes.
      int64_t params = 0, non_trainable = 0;
      for (const Parameter* p : layer.parameters()) params += int64_t(p->size());
      for (const Parameter* p : layer.non_trainable()) non_trainable += int64_t(p->size());
      CHECK(params + non_trainable == shapes[i].params);
      CHECK(non_trainable == shapes[i].non_trainable);
    }
    ++checked;
  }
  CHECK(checked >= 8);
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "gelu (exact and approximate) and silu: jax.nn's values, their derivatives, and the "
    "portable backend's own erfc and tanh within float rounding",
    "[model][activation]") {
  auto reference = make_backend("reference", BackendOptions{1, true});
  auto portable = make_backend("portable", BackendOptions{2, true});
  // The formulas jax.nn.gelu and jax.nn.silu compute, evaluated in double (Python's math.erfc,
  // math.tanh, math.exp), to 9 digits.
  const std::vector<float> x{-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 1.0f, 2.5f};
  const std::vector<std::pair<ActivationFn, std::vector<double>>> expected = {
      {ActivationFn::gelu,
       {-0.004049694, -0.158655254, -0.100323419, 0.0, 0.345731231, 0.841344746, 2.484475837}},
      {ActivationFn::gelu_approximate,
       {-0.003637392, -0.158808009, -0.100324649, 0.0, 0.34571401, 0.841191991, 2.484915734}},
      {ActivationFn::silu,
       {-0.14227762, -0.268941421, -0.109455875, 0.0, 0.311229666, 0.731058579, 2.31035455}},
  };
  for (const auto& [f, want] : expected) {
    std::vector<float> y(x.size()), yp(x.size());
    reference->activation_forward(f, x.data(), y.data(), x.size());
    portable->activation_forward(f, x.data(), yp.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      INFO("fn " << int(f) << " x " << x[i]);
      CHECK(std::fabs(y[i] - want[i]) <= 2e-6 * std::max(1.0, std::fabs(want[i])));
      CHECK(std::fabs(yp[i] - want[i]) <= 4e-6 * std::max(1.0, std::fabs(want[i])));
    }
    // The derivative against central differences in double of the same function's float values.
    std::vector<float> dy(x.size(), 1.0f), dx(x.size()), dxp(x.size());
    reference->activation_backward(f, x.data(), y.data(), dy.data(), dx.data(), x.size());
    portable->activation_backward(f, x.data(), yp.data(), dy.data(), dxp.data(), x.size());
    const float h = 1e-2f;
    std::vector<float> up(x.size()), down(x.size()), xu(x), xd(x);
    for (size_t i = 0; i < x.size(); ++i) xu[i] += h, xd[i] -= h;
    reference->activation_forward(f, xu.data(), up.data(), x.size());
    reference->activation_forward(f, xd.data(), down.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const double numeric = (double(up[i]) - down[i]) / (2.0 * h);
      INFO("fn " << int(f) << " x " << x[i] << " analytic " << dx[i] << " numeric " << numeric);
      CHECK(std::fabs(dx[i] - numeric) <= 1e-3);
      CHECK(std::fabs(dxp[i] - dx[i]) <= 4e-6);
    }
  }
  // In a model: fused after conv and dense (the kept pre-activation) and as an activation layer.
  check_gradients(
      test::model_config(
          6, 6,
          {conv(3, 3, Activation::gelu, Padding::same), activation(Activation::silu),
           conv(2, 3, Activation::gelu_approximate, Padding::valid), simple(LayerKind::flatten),
           dense(5, Activation::silu), dense(4, Activation::gelu), dense(3, Activation::softmax)}),
      3);
  const RunConfig config = test::model_config(
      7, 7,
      {conv(4, 3, Activation::gelu, Padding::same), activation(Activation::gelu_approximate),
       conv(4, 3, Activation::silu, Padding::same, 2), simple(LayerKind::flatten),
       dense(6, Activation::gelu), dense(10, Activation::softmax)});
  compare_backends(config);
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "layer_normalization: Keras's formula by hand, finite-difference gradients, and the "
    "same values on every CPU backend",
    "[model][layer_norm]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  // One flat sample (1, 4): mean 2.5, variance 1.25; y = (x - mean) / sqrt(var + eps) * gamma + b.
  LayerNormGeometry g;
  g.n = 1, g.c = 4, g.hw = 1, g.epsilon = 1e-3f;
  const std::vector<float> x{1.0f, 2.0f, 3.0f, 4.0f}, gamma{1.0f, 2.0f, 0.5f, -1.0f},
      beta{0.0f, 1.0f, 0.0f, 0.25f};
  std::vector<float> y(4), mean(1), inv_std(1);
  backend->layer_norm_forward(g, x.data(), gamma.data(), beta.data(), mean.data(), inv_std.data(),
                              y.data());
  CHECK(mean[0] == 2.5f);
  const double s = 1.0 / std::sqrt(1.25 + 1e-3);
  const std::vector<double> want{-1.5 * s, 2.0 * -0.5 * s + 1.0, 0.5 * 0.5 * s,
                                 -1.0 * 1.5 * s + 0.25};
  for (size_t i = 0; i < 4; ++i) CHECK(std::fabs(y[i] - want[i]) <= 1e-6);
  // The op's gradients against central differences of L = sum(w * y): images (3, 5, 2 x 1).
  g.n = 3, g.c = 5, g.hw = 2;
  const size_t count = size_t(g.n) * g.c * g.hw;
  std::vector<float> xs = test::random_floats(count, 7, -1.0f, 1.0f),
                     w = test::random_floats(count, 8, -1.0f, 1.0f),
                     gm = test::random_floats(5, 9, 0.5f, 1.5f),
                     bt = test::random_floats(5, 10, -0.5f, 0.5f);
  std::vector<float> ys(count), means(6), invs(6), dx(count), dgamma(5), dbeta(5);
  auto loss = [&]() {
    backend->layer_norm_forward(g, xs.data(), gm.data(), bt.data(), means.data(), invs.data(),
                                ys.data());
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += double(w[i]) * ys[i];
    return sum;
  };
  loss();
  std::vector<float> dy = w;
  backend->layer_norm_backward(g, xs.data(), gm.data(), means.data(), invs.data(), dy.data(),
                               dx.data(), dgamma.data(), dbeta.data());
  auto numeric = [&](float& v) {
    const float original = v, h = 1e-3f;
    v = original + h;
    const double plus = loss();
    v = original - h;
    const double minus = loss();
    v = original;
    return (plus - minus) / (2.0 * h);
  };
  for (size_t i = 0; i < count; ++i) CHECK(std::fabs(dx[i] - numeric(xs[i])) <= 2e-3);
  for (size_t ch = 0; ch < 5; ++ch) {
    CHECK(std::fabs(dgamma[ch] - numeric(gm[ch])) <= 2e-3);
    CHECK(std::fabs(dbeta[ch] - numeric(bt[ch])) <= 2e-3);
  }
  // In a model, flat, with and without scale / center (images: the op check above).
  LayerConfig plain = simple(LayerKind::layer_normalization);
  LayerConfig bare = plain;
  bare.center = false;
  bare.scale = false;
  check_gradients(
      test::model_config(4, 4,
                         {simple(LayerKind::flatten), dense(12, Activation::tanh), plain,
                          dense(8, Activation::sigmoid), bare, dense(3, Activation::softmax)}),
      3);
  // Trained gamma and beta (not their initial 1 and 0) in a larger model: the backends agree.
  const RunConfig config =
      test::model_config(7, 7,
                         {conv(6, 3, Activation::linear, Padding::same), plain,
                          conv(4, 3, Activation::relu), simple(LayerKind::flatten),
                          dense(8, Activation::relu), plain, dense(10, Activation::softmax)});
  compare_backends(config);
  auto reference = make_backend("reference", BackendOptions{1, true});
  auto portable = make_backend("portable", BackendOptions{2, true});
  Model a(config, *reference, 4), b(config, *portable, 4);
  const std::vector<float> in = test::random_floats(a.input_shape().size() * 4, 3, -1.0f, 1.0f);
  const ForwardContext eval{false, 5, 1};
  CHECK(relative_error(download(*portable, b.forward(in.data(), 4, eval), 40),
                       download(*reference, a.forward(in.data(), 4, eval), 40)) <= 1e-5);
}

}  // namespace repro

namespace repro {
namespace {

LayerConfig depthwise(int multiplier, int kernel, Padding padding, int stride,
                      Activation activation) {
  LayerConfig l = test::simple(LayerKind::depthwise_conv2d);
  l.depth_multiplier = multiplier;
  l.kernel_size = {kernel, kernel};
  l.strides = {stride, stride};
  l.padding = padding;
  l.activation = activation;
  return l;
}

LayerConfig separable(int filters, int multiplier, int kernel, Padding padding, int stride,
                      Activation activation) {
  LayerConfig l = depthwise(multiplier, kernel, padding, stride, activation);
  l.kind = LayerKind::separable_conv2d;
  l.filters = filters;
  return l;
}

}  // namespace

TEST_CASE(
    "depthwise_conv2d is conv2d with a kernel that is zero across channels: the same forward "
    "and input-gradient bits, the same weight gradient",
    "[model][depthwise]") {
  ConvGeometry g;
  g.n = 11, g.c = 3, g.h = 7, g.w = 6, g.depth_multiplier = 2, g.k = 6, g.r = 3, g.s = 2;
  g.stride_h = 2, g.stride_w = 1, g.pad_top = 1, g.pad_bottom = 1, g.pad_left = 0, g.pad_right = 1;
  g.oh = (g.h + 2 - g.r) / 2 + 1, g.ow = g.w + 1 - g.s + 1;
  const size_t x_size = size_t(g.n) * g.c * g.h * g.w, y_size = size_t(g.n) * g.k * g.oh * g.ow;
  const std::vector<float> x = test::random_floats(x_size, 4, -1.0f, 1.0f);
  const std::vector<float> w = test::random_floats(size_t(g.k) * g.r * g.s, 5, -1.0f, 1.0f);
  const std::vector<float> b = test::random_floats(size_t(g.k), 6, -1.0f, 1.0f);
  const std::vector<float> dy = test::random_floats(y_size, 7, -1.0f, 1.0f);
  // The full kernel (K, C, R, S): output k = c * DM + m reads channel c with w (DM, C, R, S).
  std::vector<float> full(size_t(g.k) * g.c * g.r * g.s, 0.0f);
  for (int k = 0; k < g.k; ++k)
    for (int t = 0; t < g.r * g.s; ++t) {
      const int c = k / 2, m = k % 2;
      full[(size_t(k) * g.c + c) * g.r * g.s + t] = w[(size_t(m) * g.c + c) * g.r * g.s + t];
    }
  for (bool relu : {false, true}) {
    g.relu = relu;
    ConvGeometry plain = g;
    plain.depth_multiplier = 0;
    std::vector<float> y_dw(y_size), y_conv(y_size), dx_dw(x_size), dx_conv(x_size);
    std::vector<float> dw_dw(w.size()), db_dw(b.size()), dw_conv(full.size()), db_conv(b.size());
    reference::depthwise_conv2d_forward(g, x.data(), w.data(), b.data(), y_dw.data(), 0, g.n);
    reference::conv2d_forward(plain, x.data(), full.data(), b.data(), y_conv.data());
    CHECK(y_dw == y_conv);
    reference::depthwise_conv2d_input_grad(g, w.data(), y_dw.data(), dy.data(), dx_dw.data(), 0,
                                           g.n);
    reference::depthwise_conv2d_param_grads(g, x.data(), y_dw.data(), dy.data(), dw_dw.data(),
                                            db_dw.data(), 0, g.k);
    reference::conv2d_backward(plain, x.data(), full.data(), y_conv.data(), dy.data(),
                               dx_conv.data(), dw_conv.data(), db_conv.data());
    CHECK(dx_dw == dx_conv);
    // The weight gradients sum in another order (chunks): equal within float rounding.
    for (int k = 0; k < g.k; ++k) {
      for (int t = 0; t < g.r * g.s; ++t) {
        const int c = k / 2, m = k % 2;
        CHECK(dw_dw[(size_t(m) * g.c + c) * g.r * g.s + t] ==
              Approx(dw_conv[(size_t(k) * g.c + c) * g.r * g.s + t]).margin(1e-5));
      }
      CHECK(db_dw[size_t(k)] == Approx(db_conv[size_t(k)]).margin(1e-5));
    }
  }
}

TEST_CASE("depthwise_conv2d and separable_conv2d: finite-difference gradients, backends agree",
          "[model][depthwise]") {
  const RunConfig config =
      test::model_config(8, 7,
                         {conv(3, 3, Activation::tanh, Padding::same),
                          depthwise(2, 3, Padding::same, 2, Activation::tanh),
                          separable(4, 2, 3, Padding::valid, 1, Activation::silu),
                          separable(3, 1, 2, Padding::same, 2, Activation::linear),
                          simple(LayerKind::flatten), dense(10, Activation::softmax)});
  check_gradients(config, 3);
  compare_backends(config);
  // The Keras weights: depthwise kernel (R, S, C, DM) and bias (C * DM); separable's
  // depthwise_kernel, pointwise_kernel (1, 1, C * DM, filters), bias (filters).
  auto backend = make_backend("reference", BackendOptions{1, true});
  const Model model(config, *backend, 2);
  std::vector<std::pair<std::string, std::vector<int64_t>>> got;
  for (const NamedTensor& t : model.export_weights()) got.emplace_back(t.name, t.shape);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"conv2d/kernel", {3, 3, 1, 3}},
      {"conv2d/bias", {3}},
      {"depthwise_conv2d/kernel", {3, 3, 3, 2}},
      {"depthwise_conv2d/bias", {6}},
      {"separable_conv2d/depthwise_kernel", {3, 3, 6, 2}},
      {"separable_conv2d/pointwise_kernel", {1, 1, 12, 4}},
      {"separable_conv2d/bias", {4}},
      {"separable_conv2d_1/depthwise_kernel", {2, 2, 4, 1}},
      {"separable_conv2d_1/pointwise_kernel", {1, 1, 4, 3}},
      {"separable_conv2d_1/bias", {3}},
      {"dense/kernel", {3, 10}},
      {"dense/bias", {10}}};
  CHECK(got == expected);
}

TEST_CASE(
    "depthwise and separable convolutions give the same bits at 1 and 3 threads and on "
    "portable's ISA paths",
    "[model][depthwise]") {
  const RunConfig config =
      test::model_config(9, 9,
                         {depthwise(3, 3, Padding::same, 1, Activation::relu),
                          separable(5, 2, 3, Padding::same, 2, Activation::relu),
                          simple(LayerKind::flatten), dense(10, Activation::softmax)});
  auto run = [&](const std::string& backend_name, int threads) {
    auto backend = make_backend(backend_name, BackendOptions{threads, true});
    Model model(config, *backend, 17);
    const std::vector<float> x =
        test::random_floats(model.input_shape().size() * 17, 8, 0.0f, 1.0f);
    std::vector<int32_t> y(17);
    for (int i = 0; i < 17; ++i) y[i] = i % 10;
    loss_of(model, *backend, x, y, 17, true);
    std::vector<float> all;
    for (Parameter* p : model.parameters()) {
      const std::vector<float> g = download(*backend, p->grad.data(), p->size());
      all.insert(all.end(), g.begin(), g.end());
    }
    return all;
  };
  CHECK(run("onednn", 1) == run("onednn", 3));
  CHECK(run("portable", 1) == run("portable", 3));
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "a graph with depthwise and separable convolutions after a concatenation gives every "
    "layer output and gradient the same bits at 1 and 2 threads",
    "[model][depthwise][graph]") {
  const RunConfig config = parse_config(
      "seed: 1\ndata: {resize: [12, 12]}\nmodel:\n"
      "  - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu, "
      "name: a}\n"
      "  - conv2d: {filters: 4, kernel_size: 3, padding: same}\n"
      "  - add: {inputs: [a, conv2d]}\n"
      "  - separable_conv2d: {filters: 2, kernel_size: 3, padding: same, inputs: "
      "[input], name: side}\n"
      "  - concatenate: {inputs: [add, side]}\n"
      "  - depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, activation: relu}\n"
      "  - flatten: {}\n"
      "  - dense: {units: 10, activation: softmax}\n",
      "graph.yaml");
  auto run = [&](int threads) {
    auto backend = make_backend("onednn", BackendOptions{threads, true});
    Model model(config, *backend, 32);
    const std::vector<float> x =
        test::random_floats(model.input_shape().size() * 32, 9, 0.0f, 1.0f);
    std::vector<int32_t> y(32);
    for (int i = 0; i < 32; ++i) y[i] = i % 10;
    loss_of(model, *backend, x, y, 32, true);
    std::vector<std::vector<float>> all;
    for (size_t l = 0; l < model.layers().size(); ++l) {
      const size_t count = model.layers()[l]->out_shape().size() * 32;
      all.push_back(download(*backend, model.layer_output(l), count));
      all.push_back(download(*backend, model.layer_output_grad(l), count));
    }
    return all;
  };
  const auto one = run(1), two = run(2);
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("layer " << i / 2 << (i % 2 ? " gradient" : " output"));
    CHECK(one[i] == two[i]);
  }
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "conv, pool, flatten and a wide dense layer (Keras's MNIST CNN) give the same bits at "
    "1, 2 and 3 threads on onednn",
    "[model][onednn][threads]") {
  // Behind a flatten the dense layer sums over 5,408 inputs for few rows; oneDNN's own threading
  // would split that sum between threads.
  const RunConfig config =
      test::model_config(28, 28,
                         {conv(32, 3, Activation::relu), pool(2), simple(LayerKind::flatten),
                          dense(128, Activation::relu), dense(10, Activation::softmax)});
  auto run = [&](int threads) {
    auto backend = make_backend("onednn", BackendOptions{threads, true});
    Model model(config, *backend, 37);
    const std::vector<float> x =
        test::random_floats(model.input_shape().size() * 37, 10, 0.0f, 1.0f);
    std::vector<int32_t> y(37);
    for (int i = 0; i < 37; ++i) y[i] = i % 10;
    loss_of(model, *backend, x, y, 37, true);
    std::vector<std::vector<float>> all;
    for (size_t l = 0; l < model.layers().size(); ++l) {
      const size_t count = model.layers()[l]->out_shape().size() * 37;
      all.push_back(download(*backend, model.layer_output(l), count));
      all.push_back(download(*backend, model.layer_output_grad(l), count));
    }
    for (Parameter* p : model.parameters())
      all.push_back(download(*backend, p->grad.data(), p->size()));
    return all;
  };
  const auto one = run(1);
  for (int threads : {2, 3}) {
    const auto other = run(threads);
    for (size_t i = 0; i < one.size(); ++i) {
      INFO(threads << " threads, tensor " << i);
      CHECK(one[i] == other[i]);
    }
  }
}

}  // namespace repro

namespace repro {

TEST_CASE("permute reorders the sample's axes in Keras's order, and its gradients",
          "[model][permute]") {
  // A sequence (2, 3) permuted [2, 1] is its transpose (3, 2).
  const RunConfig seq = parse_config(
      "seed: 1\ndata: {resize: [2, 3]}\nmodel:\n  - reshape: {target_shape: [2, 3]}\n"
      "  - permute: {dims: [2, 1]}\n  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n",
      "permute.yaml");
  auto backend = make_backend("reference", BackendOptions{1, true});
  {
    Model model(seq, *backend, 1);
    const std::vector<float> x = {0, 1, 2, 3, 4, 5};  // (T, F) rows 0 1 2 / 3 4 5
    model.forward(x.data(), 1, ForwardContext{});
    CHECK(download(*backend, model.layer_output(1), 6) == std::vector<float>{0, 3, 1, 4, 2, 5});
  }
  // An image (H 2, W 3, C 4) permuted [3, 1, 2] is (C, H, W) in Keras's order.
  const RunConfig image = parse_config(
      "seed: 1\ndata: {resize: [2, 3]}\nmodel:\n  - conv2d: {filters: 4, kernel_size: 1}\n"
      "  - permute: {dims: [3, 1, 2]}\n  - flatten: {}\n  - dense: {units: 10, activation: "
      "softmax}\n",
      "permute.yaml");
  {
    Model model(image, *backend, 1);
    const std::vector<float> x = test::random_floats(6, 5, 0.0f, 1.0f);
    model.forward(x.data(), 1, ForwardContext{});
    const std::vector<float> conv = download(*backend, model.layer_output(0), 24);  // (C, H, W)
    const std::vector<float> flat = download(*backend, model.layer_output(2), 24);
    // flatten writes Keras's order of the permuted (C, H, W) image: index (c * 2 + h) * 3 + w,
    // which is exactly our (C, H, W) conv output.
    CHECK(flat == conv);
    CHECK(model.layers()[1]->out_shape().str() == "(4, 2, 3)");
  }
  check_gradients(parse_config("seed: 2\ndata: {resize: [5, 4]}\nmodel:\n"
                               "  - conv2d: {filters: 3, kernel_size: 2, activation: tanh}\n"
                               "  - permute: {dims: [2, 3, 1]}\n"
                               "  - conv2d: {filters: 2, kernel_size: 2, activation: tanh}\n"
                               "  - flatten: {}\n  - reshape: {target_shape: [4, -1]}\n"
                               "  - permute: {dims: [2, 1]}\n  - simple_rnn: {units: 3}\n"
                               "  - dense: {units: 10, activation: softmax}\n",
                               "permute.yaml"),
                  3);
}

}  // namespace repro

namespace repro {

TEST_CASE(
    "backward skips what no parameter needs: layers before the first trainable one, and the "
    "input gradient of that one",
    "[model]") {
  const RunConfig config = parse_config(
      "seed: 1\ndata: {resize: [8, 8]}\nmodel:\n  - random_flip: {mode: horizontal}\n"
      "  - conv2d: {filters: 2, kernel_size: 3}\n  - flatten: {}\n"
      "  - dense: {units: 10, activation: softmax}\n",
      "skip.yaml");
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, 4);
  CHECK_FALSE(model.output_grad_computed(0));  // the flip: nothing before it to train
  CHECK(model.output_grad_computed(1));
  CHECK(model.output_grad_computed(2));
  const std::vector<float> x = test::random_floats(model.input_shape().size() * 4, 6, 0.0f, 1.0f);
  const std::vector<int32_t> y = {1, 2, 3, 4};
  loss_of(model, *backend, x, y, 4, true);
  CHECK(model.op_times().count("augment bwd") == 0);
  CHECK(model.op_times().count("conv bwd") == 1);
}

}  // namespace repro
