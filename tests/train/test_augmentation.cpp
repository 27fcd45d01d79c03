// The augmentation layers in a model: training draws are the same bits for 1, 2 and 4 threads,
// run to run, and when the batch is split (each part passing its first image's position), a
// layer seed changes them, evaluation passes images through, and a flip really flips.
#include <catch2/catch.hpp>
#include <vector>

#include "backend/backend.h"
#include "nn/model.h"
#include "train_helpers.h"

namespace repro {
namespace {

using test::conv;
using test::dense;
using test::simple;

LayerConfig augmentation(LayerKind kind, std::optional<int64_t> seed = std::nullopt) {
  LayerConfig l = simple(kind);
  l.seed = seed;
  l.height_factor = {-0.2, 0.2};
  l.width_factor = {-0.1, 0.3};
  l.width_factor_given = true;
  return l;
}

RunConfig augmented(std::optional<int64_t> flip_seed = std::nullopt) {
  return test::model_config(
      10, 12,
      {augmentation(LayerKind::random_flip, flip_seed), augmentation(LayerKind::random_translation),
       augmentation(LayerKind::random_zoom), simple(LayerKind::flatten),
       dense(10, Activation::softmax)});
}

// The augmented images (the output of layer 2) of a training forward of n images at `step`,
// computed in parts of `part` images that each pass their first image's position.
std::vector<float> augmented_images(const RunConfig& config, const std::string& backend_name,
                                    int threads, int n, int part, int64_t step = 3) {
  auto backend = make_backend(backend_name, BackendOptions{threads, true});
  Model model(config, *backend, part);
  const size_t image = model.input_shape().size(), out = model.layers()[2]->out_shape().size();
  const std::vector<float> x = test::random_floats(image * n, 7, 0.0f, 1.0f);
  std::vector<float> result;
  for (int first = 0; first < n; first += part) {
    ForwardContext ctx{true, 42, step};
    ctx.first_image = first;
    model.forward(x.data() + size_t(first) * image, part, ctx);
    std::vector<float> host(out * part);
    backend->download(model.layer_output(2), host.data(), host.size());
    result.insert(result.end(), host.begin(), host.end());
  }
  return result;
}

}  // namespace

TEST_CASE("augmentation draws the same bits for any thread count, run to run and batch split",
          "[model][augmentation]") {
  const RunConfig config = augmented();
  const std::vector<float> want = augmented_images(config, "reference", 1, 16, 16);
  CHECK(augmented_images(config, "reference", 1, 16, 16) == want);
  for (int threads : {1, 2, 4}) {
    INFO(threads << " threads");
    CHECK(augmented_images(config, "onednn", threads, 16, 16) == want);
    CHECK(augmented_images(config, "onednn", threads, 16, 8) == want);  // two chunks of 8
  }
  // Another step draws other transforms.
  CHECK(augmented_images(config, "reference", 1, 16, 16, 4) != want);
  // A layer seed replaces the run seed in the flip's key.
  CHECK(augmented_images(augmented(5), "reference", 1, 16, 16) != want);
  CHECK(augmented_images(augmented(5), "reference", 1, 16, 16) ==
        augmented_images(augmented(5), "onednn", 2, 16, 8));
}

TEST_CASE("augmentation is the identity in evaluation and a flip mirrors images in training",
          "[model][augmentation]") {
  auto backend = make_backend("reference", BackendOptions{1, true});
  LayerConfig flip = simple(LayerKind::random_flip);
  flip.mode = "horizontal";
  const RunConfig config =
      test::model_config(2, 3, {flip, simple(LayerKind::flatten), dense(10, Activation::softmax)});
  Model model(config, *backend, 64);
  std::vector<float> x(64 * 6);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 6);  // rows 0 1 2 / 3 4 5
  model.forward(x.data(), 64, ForwardContext{true, 9, 0});
  std::vector<float> y(64 * 6);
  backend->download(model.layer_output(0), y.data(), y.size());
  int flipped = 0;
  for (int b = 0; b < 64; ++b) {
    const std::vector<float> image(y.begin() + b * 6, y.begin() + b * 6 + 6);
    const bool mirrored = image == std::vector<float>{2, 1, 0, 5, 4, 3};
    CHECK((mirrored || image == std::vector<float>{0, 1, 2, 3, 4, 5}));
    flipped += mirrored;
  }
  CHECK(flipped > 16);  // about half of 64
  CHECK(flipped < 48);
  // Evaluation skips the layer: the next layer reads the input as it is.
  Model same(config, *backend, 64);
  CHECK(same.layers()[0]->identity_in_eval());
}

}  // namespace repro
