// Embedding (Keras's Embedding): rows of the table by hand, the refusals (ids that are not whole
// numbers in [0, input_dim), mask_zero, a layer with weights before it, an image input), the
// table's gradient against finite differences, and the same bits on every CPU backend, thread
// count and split of the batch into chunks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "backend/backend.h"
#include "core/chunk.h"
#include "core/error.h"
#include "model_checks.h"
#include "nn/model.h"
#include "train_helpers.h"

namespace repro {
namespace {

using test::download;
using test::loss_of;

// A table of `features` id columns (the file is never read: the shapes come from features).
RunConfig id_model(int features, const std::string& layers) {
  return parse_config("seed: 4\ndata: {dataset: csv, path: t.csv, label: y, features: " +
                          std::to_string(features) + "}\nmodel:\n" + layers,
                      "embedding.yaml");
}

// n samples of `length` ids from [0, vocabulary), drawn with repeats (bits of a fixed stream).
std::vector<float> random_ids(int n, int length, int vocabulary, uint32_t seed) {
  const std::vector<float> u = test::random_floats(size_t(n) * length, seed, 0.0f, 1.0f);
  std::vector<float> ids(u.size());
  for (size_t i = 0; i < u.size(); ++i)
    ids[i] = std::min(std::floor(u[i] * float(vocabulary)), float(vocabulary - 1));
  return ids;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("embedding outputs each id's row of the table, in Keras's layout", "[embedding]") {
  const RunConfig config = id_model(3,
                                    "  - embedding: {input_dim: 4, output_dim: 2}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 2, activation: softmax}\n");
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, 2);
  REQUIRE(model.layers()[0]->out_shape().str() == "(3, 2)");
  std::vector<NamedTensor> weights = model.export_weights();
  REQUIRE(weights[0].name == "embedding/embeddings");
  REQUIRE(weights[0].shape == std::vector<int64_t>{4, 2});  // Keras's (input_dim, output_dim)
  // Default initializer: Keras's "uniform", RandomUniform(-0.05, 0.05).
  for (float v : weights[0].data) CHECK((v >= -0.05f && v < 0.05f));
  weights[0].data = {0.5f, -1.0f, 1.5f, 2.0f, -2.5f, 3.0f, 4.0f, 0.25f};  // row i: id i
  model.import_weights(weights);
  const std::vector<float> ids = {3, 0, 3, 2, 1, -0.0f};  // -0.0 is the whole number 0
  model.forward(ids.data(), 2, ForwardContext{});
  const std::vector<float> y = download(*backend, model.layer_output(0), 12);
  CHECK(y == std::vector<float>{4.0f, 0.25f, 0.5f, -1.0f, 4.0f, 0.25f,  //
                                -2.5f, 3.0f, 1.5f, 2.0f, 0.5f, -1.0f});
}

TEST_CASE(
    "embedding refuses ids that are not whole numbers from 0 to input_dim - 1, naming the layer, "
    "the "
    "value and input_dim",
    "[embedding]") {
  const RunConfig config = id_model(2,
                                    "  - embedding: {input_dim: 5, output_dim: 3, name: words}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 2, activation: softmax}\n");
  auto backend = make_backend("reference", BackendOptions{1, true});
  Model model(config, *backend, 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& [bad, shown] :
       {std::pair{5.0f, "id 5 "}, std::pair{-1.0f, "id -1 "}, std::pair{2.5f, "id 2.5 "},
        std::pair{1e9f, "id 1e+09 "}, std::pair{nan, "id nan "}, std::pair{inf, "id inf "},
        std::pair{4.00000048f, "id 4.00000048 "}}) {
    const std::vector<float> ids = {0, 4, 1, bad};
    const std::string message = message_of([&] { model.forward(ids.data(), 2, ForwardContext{}); });
    INFO(message);
    CHECK_THAT(message, Catch::Contains("layer 'words': " + std::string(shown) +
                                        "(sample 1 of the batch, position 1)"));
    CHECK_THAT(message, Catch::Contains("input_dim = 5"));
  }
  // The largest valid id passes.
  const std::vector<float> ok = {0, 4, 1, 4};
  model.forward(ok.data(), 2, ForwardContext{});
}

TEST_CASE(
    "the config refuses mask_zero, a layer with weights before an embedding, an image input "
    "and a missing input_dim, each at its place",
    "[embedding]") {
  const auto error = [](const std::string& yaml) {
    return message_of([&] { parse_config(yaml, "e.yaml"); });
  };
  const std::string data = "data: {dataset: csv, path: t.csv, label: y, features: 4}\nmodel:\n";
  CHECK_THAT(error(data + "  - embedding: {input_dim: 9, output_dim: 3, mask_zero: true}\n"
                          "  - flatten: {}\n  - dense: {units: 2}\n"),
             Catch::Contains("e.yaml:3:57: model.0.embedding.mask_zero true is not supported"));
  CHECK(error(data + "  - embedding: {input_dim: 9, output_dim: 3, mask_zero: false}\n"
                     "  - flatten: {}\n  - dense: {units: 2}\n") == "(no error)");
  const std::string before = error(data +
                                   "  - dense: {units: 4}\n"
                                   "  - dropout: {rate: 0.1}\n"
                                   "  - embedding: {input_dim: 9, output_dim: 3}\n"
                                   "  - flatten: {}\n  - dense: {units: 2}\n");
  CHECK_THAT(before, Catch::Contains("e.yaml:5:5: layer 2 (embedding `embedding`) comes after "
                                     "layer 0 (dense `dense`), whose weights would never learn"));
  CHECK_THAT(before, Catch::Contains("move the embedding before it"));
  // Layers without weights before it are fine.
  CHECK(error(data + "  - reshape: {target_shape: [4]}\n"
                     "  - embedding: {input_dim: 9, output_dim: 3}\n"
                     "  - flatten: {}\n  - dense: {units: 2}\n") == "(no error)");
  CHECK_THAT(error("model:\n  - embedding: {input_dim: 9, output_dim: 3}\n"
                   "  - flatten: {}\n  - dense: {units: 10}\n"),
             Catch::Contains("takes a vector of token ids per sample but gets (28, 28, 1)"));
  CHECK_THAT(error(data + "  - embedding: {output_dim: 3}\n  - flatten: {}\n  - dense: {units: "
                          "2}\n"),
             Catch::Contains("model.0.embedding.input_dim is missing"));
}

TEST_CASE("the embedding table's gradient matches finite differences", "[embedding][gradient]") {
  // Repeated ids within an image and across images; ids 5 and 6 never occur (zero gradient).
  const RunConfig config = id_model(4,
                                    "  - embedding: {input_dim: 7, output_dim: 3}\n"
                                    "  - lstm: {units: 4, return_sequences: true}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 3, activation: softmax}\n");
  auto backend = make_backend("reference", BackendOptions{1, true});
  const int n = 3;
  Model model(config, *backend, n);
  const std::vector<float> x = {1, 3, 1, 0, 4, 4, 2, 1, 0, 3, 3, 3};
  const std::vector<int32_t> y = {0, 2, 1};
  loss_of(model, *backend, x, y, n, true);
  Parameter& table = *model.parameters()[0];
  REQUIRE(table.name == "embedding/embeddings");
  const std::vector<float> analytic = download(*backend, table.grad.data(), table.size());
  std::vector<float> values = download(*backend, table.value.data(), table.size());
  int nonzero = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    const float original = values[i];
    const float eps = 1e-2f;
    values[i] = original + eps;
    backend->upload(values.data(), table.value.data(), values.size());
    const double plus = loss_of(model, *backend, x, y, n, false);
    values[i] = original - eps;
    backend->upload(values.data(), table.value.data(), values.size());
    const double minus = loss_of(model, *backend, x, y, n, false);
    values[i] = original;
    backend->upload(values.data(), table.value.data(), values.size());
    const double numeric = (plus - minus) / (2.0 * eps);
    const size_t id = i % 7;  // the backend layout: (output_dim, input_dim)
    INFO("embeddings[id " << id << ", feature " << i / 7 << "] analytic " << analytic[i]
                          << " numeric " << numeric);
    if (id >= 5) {
      CHECK(analytic[i] == 0.0f);
    } else {
      CHECK(std::fabs(analytic[i] - numeric) <=
            2e-3 + 2e-2 * std::max(std::fabs(numeric), std::fabs(double(analytic[i]))));
      nonzero += analytic[i] != 0.0f;
    }
  }
  CHECK(nonzero >= 12);
}

TEST_CASE(
    "embedding gives the same bits on every CPU backend and thread count, and its chunk "
    "gradients fold to the one-process gradient and split over ranks",
    "[embedding][threads]") {
  const RunConfig config = id_model(9,
                                    "  - embedding: {input_dim: 11, output_dim: 20}\n"
                                    "  - lstm: {units: 6, return_sequences: true}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 10, activation: softmax}\n");
  const int batch = 19;  // chunks of 8, 8 and 3
  const std::vector<float> x = random_ids(batch, 9, 11, 3);
  std::vector<int32_t> y(batch);
  for (int i = 0; i < batch; ++i) y[size_t(i)] = (3 * i + 1) % 10;
  auto run = [&](const std::string& name, int threads, bool chunk_grads) {
    auto backend = make_backend(name, BackendOptions{threads, true});
    Model model(config, *backend, batch, chunk_grads);
    loss_of(model, *backend, x, y, batch, true);
    std::vector<std::vector<float>> all;
    all.push_back(download(*backend, model.layer_output(0), size_t(batch) * 9 * 20));
    for (Parameter* p : model.parameters()) {
      const Array& g = chunk_grads ? p->chunk_grads : p->grad;
      all.push_back(
          download(*backend, g.data(), (chunk_grads ? size_t(chunk_count(batch)) : 1) * p->size()));
    }
    return all;
  };
  const auto reference = run("reference", 1, false);
  CHECK(run("reference", 2, false) == reference);
  // The embedding's output is the same code on every CPU backend (its table's gradient reads the
  // dy of the backend's own dense and lstm, whose bits differ between backends).
  const auto onednn = run("onednn", 1, false), portable = run("portable", 1, false);
  CHECK(onednn[0] == reference[0]);
  CHECK(portable[0] == reference[0]);
  CHECK(run("onednn", 3, false) == onednn);
  CHECK(run("portable", 2, false) == portable);

  // Chunk gradients: each chunk alone, and folded in chunk order, the one-process bits.
  const auto chunks = run("onednn", 2, true);
  const size_t size = onednn[1].size();
  std::vector<float> folded(size);
  for (size_t j = 0; j < size; ++j) {
    float acc = chunks[1][j];
    for (int c = 1; c < chunk_count(batch); ++c) acc += chunks[1][size_t(c) * size + j];
    folded[j] = acc;
  }
  CHECK(std::memcmp(folded.data(), onednn[1].data(), size * sizeof(float)) == 0);
  // The second and third chunks as a rank would hold them: the same chunk rows.
  auto backend = make_backend("onednn", BackendOptions{1, true});
  Model part(config, *backend, batch, true);
  ForwardContext ctx{true, 11, 5};
  ctx.first_image = 8;
  ctx.batch_images = batch;
  const float* logits = part.forward(x.data() + 8 * 9, batch - 8, ctx);
  backend->softmax_cross_entropy(logits, y.data() + 8, batch - 8, 10, part.dlogits(),
                                 1.0f / float(batch));
  part.backward(batch - 8);
  // The loss scale differs from loss_of's (1 / 11 here, 1 / 19 there): compare against a
  // whole-batch run with this scale.
  Model whole(config, *backend, batch, true);
  ForwardContext all_ctx{true, 11, 5};
  const float* all_logits = whole.forward(x.data(), batch, all_ctx);
  backend->softmax_cross_entropy(all_logits, y.data(), batch, 10, whole.dlogits(),
                                 1.0f / float(batch));
  whole.backward(batch);
  const Parameter& mine = *part.parameters()[0];
  const Parameter& theirs = *whole.parameters()[0];
  const std::vector<float> a = download(*backend, mine.chunk_grads.data(), 2 * mine.size());
  const std::vector<float> b = download(*backend, theirs.chunk_grads.data(), 3 * theirs.size());
  CHECK(std::memcmp(a.data(), b.data() + mine.size(), a.size() * sizeof(float)) == 0);
  int nonzero = 0;
  for (float v : a) nonzero += v != 0.0f;
  CHECK(nonzero > 100);
}

}  // namespace repro
