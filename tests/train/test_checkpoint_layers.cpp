// Exact resume with the layers and optimizers beyond the recipe: a mid-epoch checkpoint of a
// model with augmentation and batch norm, trained by RMSprop or AdamW on a schedule, resumes to
// the uninterrupted run's history bits and weights (moving statistics and optimizer slots
// included), and its files name every such weight and slot as Keras does.
#include <catch2/catch.hpp>
#include <filesystem>

#include "record/safetensors.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "train_helpers.h"

namespace repro {
namespace {

using test::conv;
using test::dense;
using test::simple;

RunConfig layered_config(const std::string& dir, const std::string& optimizer) {
  RunConfig config = test::quadrant_config(dir, 100, 32);  // 7 steps an epoch
  LayerConfig flip = simple(LayerKind::random_flip);
  LayerConfig zoom = simple(LayerKind::random_zoom);
  zoom.height_factor = {-0.2, 0.2};
  LayerConfig relu = simple(LayerKind::activation);
  relu.activation = Activation::relu;
  LayerConfig avg = simple(LayerKind::average_pooling2d);
  avg.pool_size = avg.strides = {2, 2};
  config.model = {flip,
                  zoom,
                  conv(4, 3, Activation::linear, Padding::same),
                  simple(LayerKind::batch_normalization),
                  relu,
                  avg,
                  simple(LayerKind::flatten),
                  dense(4, Activation::softmax)};
  config.training.optimizer.name = optimizer;
  config.training.optimizer.momentum = 0.5;
  config.training.optimizer.schedule.name = "exponential_decay";
  config.training.optimizer.schedule.initial_learning_rate = 0.01;
  config.training.optimizer.schedule.decay_steps = 3;
  config.training.optimizer.schedule.decay_rate = 0.8;
  config.training.checkpoint.enabled = true;
  config.training.checkpoint.every_steps = 4;
  return config;
}

}  // namespace

TEST_CASE(
    "a mid-epoch checkpoint with batch norm, augmentation and a scheduled rmsprop or adamw "
    "resumes exactly",
    "[checkpoint]") {
  for (const std::string optimizer : {"rmsprop", "adamw"}) {
    const std::string dir = test::temp_dir("ckpt_layers_" + optimizer);
    const RunConfig config = layered_config(dir, optimizer);
    Trainer straight(config, TrainOptions{"onednn", 2});
    TrainObserver quiet;
    straight.run(quiet);
    {
      Trainer first(config, TrainOptions{"onednn", 2});
      first.set_run_dir(dir + "/run");
      first.run(quiet, 9);  // checkpoints at steps 4 and 8, and at 9 where it stops
    }
    Trainer resumed(config, TrainOptions{"onednn", 2});
    const std::string from = restore_latest_checkpoint(dir + "/run", resumed);
    CHECK(resumed.optimizer().iterations() == 9);
    resumed.run(quiet);
    INFO(optimizer);
    CHECK(test::same_history_bits(resumed.state().history, straight.state().history));
    CHECK(resumed.weights_sha256() == straight.weights_sha256());

    std::vector<std::string> names;
    for (const NamedTensor& t :
         read_safetensors(std::filesystem::path(from).replace_extension(".safetensors").string()))
      names.push_back(t.name);
    auto has = [&](const std::string& name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    CHECK(has("model/batch_normalization/moving_mean"));
    CHECK(has("model/batch_normalization/moving_variance"));
    CHECK_FALSE(has("optimizer/batch_normalization/moving_mean/velocity"));
    if (optimizer == "rmsprop") {
      CHECK(has("optimizer/batch_normalization/gamma/velocity"));
      CHECK(has("optimizer/conv2d/kernel/momentum"));
    } else {
      CHECK(has("optimizer/dense/kernel/velocity"));
    }
    std::filesystem::remove_all(dir);
  }
}

}  // namespace repro
