// The trainer on a synthetic IDX dataset (learnable in seconds) and, when present, on 2,000 real
// MNIST images: loss goes down, two runs give the same bits, a stop mid-epoch and a continue give
// the same history as an uninterrupted run, and the run folder holds its three files.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "train/progress.h"
#include "train/trainer.h"
#include "train_helpers.h"

namespace repro {
namespace {

struct Recorder : TrainObserver {
  std::vector<float> step_losses;
  int epochs_ended = 0;
  void batch_end(int64_t, int64_t, const EpochMetrics& running) override {
    step_losses.push_back(running.loss);
  }
  void epoch_end(int, const EpochMetrics&, double) override { ++epochs_ended; }
};

}  // namespace

TEST_CASE("training the quadrant task lowers the loss and learns it", "[trainer]") {
  const std::string dir = test::temp_dir("learn");
  RunConfig config = test::quadrant_config(dir, 512, 128);
  config.training.epochs = 3;
  for (const char* backend : {"reference", "onednn"}) {
    Trainer trainer(config, TrainOptions{backend, 1});
    Recorder recorder;
    trainer.run(recorder);
    const History& h = trainer.state().history;
    INFO(backend);
    REQUIRE(h.at("loss").size() == 3);
    CHECK(h.at("loss")[2] < 0.5 * h.at("loss")[0]);
    CHECK(h.at("val_accuracy")[2] > 0.9);
    CHECK(recorder.epochs_ended == 3);
    CHECK(trainer.state().global_step == 3 * 32);
    CHECK(trainer.run_record().completed);
    CHECK(trainer.run_record().epochs.size() == 3);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("two trainings of one config give bit-identical history and weights", "[trainer]") {
  const std::string dir = test::temp_dir("twice");
  const RunConfig config = test::quadrant_config(dir, 200, 50);  // last batch of 8
  for (const char* backend : {"reference", "onednn"}) {
    Trainer a(config, TrainOptions{backend, 2}), b(config, TrainOptions{backend, 2});
    TrainObserver quiet;
    a.run(quiet);
    b.run(quiet);
    INFO(backend);
    CHECK(test::same_history_bits(a.state().history, b.state().history));
    CHECK(a.weights_sha256() == b.weights_sha256());
    CHECK(a.run_record().epochs[1].weights_sha256 == b.run_record().epochs[1].weights_sha256);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a run stopped mid-epoch and continued equals the uninterrupted run", "[trainer]") {
  const std::string dir = test::temp_dir("continue");
  const RunConfig config = test::quadrant_config(dir, 160, 40);  // 10 steps per epoch
  Trainer whole(config, TrainOptions{"reference", 1}), parts(config, TrainOptions{"reference", 1});
  TrainObserver quiet;
  whole.run(quiet);
  parts.run(quiet, 13);  // stops at epoch 1 (0-based), batch 3
  CHECK(parts.state().epoch == 1);
  CHECK(parts.state().batch == 3);
  CHECK(parts.state().history.at("loss").size() == 1);
  parts.run(quiet);
  CHECK(test::same_history_bits(whole.state().history, parts.state().history));
  CHECK(whole.weights_sha256() == parts.weights_sha256());
  CHECK(parts.optimizer().iterations() == 20);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the run folder holds history.json, run.json and Keras-layout model.safetensors",
          "[trainer]") {
  const std::string dir = test::temp_dir("folder");
  RunConfig config = test::quadrant_config(dir, 64, 32);
  config.training.epochs = 1;
  Trainer trainer(config, TrainOptions{"reference", 1});
  TrainObserver quiet;
  trainer.run(quiet);
  trainer.write_run_folder(dir + "/run");
  const History history = read_history(dir + "/run/history.json");
  CHECK(test::same_history_bits(history, trainer.state().history));
  const RunRecord record = read_run_record(dir + "/run/run.json");
  CHECK(record.completed);
  CHECK(record.backend == "reference");
  CHECK(record.threads == 1);
  REQUIRE(record.epochs.size() == 1);
  CHECK(record.epochs[0].weights_sha256 == trainer.weights_sha256());
  CHECK(record.test_accuracy == Approx(history.at("val_accuracy")[0]));
  const std::vector<NamedTensor> tensors = read_safetensors(dir + "/run/model.safetensors");
  REQUIRE(tensors.size() == 4);
  CHECK(tensors[0].name == "conv2d/kernel");
  CHECK(tensors[0].shape == std::vector<int64_t>{3, 3, 1, 4});
  CHECK(tensors[2].name == "dense/kernel");
  CHECK(tensors[2].shape == std::vector<int64_t>{64, 4});
  std::filesystem::remove_all(dir);
}

TEST_CASE("images of another size than the model's input are an input error", "[trainer]") {
  const std::string dir = test::temp_dir("size");
  RunConfig config = test::quadrant_config(dir, 32, 16);
  config.data.resize = {0, 0};  // the model then expects 28x28, the files hold 8x8
  CHECK_THROWS_AS(Trainer(config, TrainOptions{"reference", 1}), InputError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a short training on 2,000 real MNIST images lowers the loss clearly",
          "[trainer][mnist]") {
  const char* env = std::getenv("REPRO_DATA_DIR");
  const std::string root = env ? env : std::string(REPRO_SOURCE_DIR) + "/../shared/data";
  if (!std::filesystem::exists(root + "/mnist/train-images-idx3-ubyte.gz")) {
    REPRO_SKIP("no MNIST under " + root + "/mnist (set REPRO_DATA_DIR)");
  }
  RunConfig config =
      test::model_config(16, 16,
                         {test::conv(8, 3, Activation::relu), test::pool(2),
                          test::simple(LayerKind::flatten), test::dense(10, Activation::softmax)});
  config.data.dataset = "mnist";
  config.data.dir = root + "/mnist";
  config.data.limit = 2000;
  config.data.batch_size = 32;
  config.training.epochs = 2;
  Trainer trainer(config, TrainOptions{"onednn", 2});
  Recorder recorder;
  trainer.run(recorder);
  const History& h = trainer.state().history;
  INFO("first step loss " << recorder.step_losses.front() << ", epoch losses " << h.at("loss")[0]
                          << " " << h.at("loss")[1]);
  CHECK(recorder.step_losses.front() > 2.0);
  CHECK(h.at("loss")[1] < 0.6 * recorder.step_losses.front());
  CHECK(h.at("loss")[1] < h.at("loss")[0]);
  CHECK(h.at("val_accuracy")[1] > 0.75);
}

TEST_CASE("the progress text is Keras's: counter, 20-cell bar, time, step time, metrics",
          "[progress]") {
  Progbar bar(938, false, 100.0);
  const std::string first = bar.line(1, {{"accuracy", 0.5}, {"loss", 2.25}}, false, 100.5);
  CHECK(first ==
        "  1/938 \u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501"
        "\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501 7:48 500ms/step - accuracy: "
        "0.5000 - loss: 2.2500");
  std::string last = bar.line(
      938,
      {{"accuracy", 0.54181}, {"loss", 1.28671}, {"val_accuracy", 0.92911}, {"val_loss", 0.00023}},
      true, 126.6);
  // Step time excludes the first step: (126.6 - 100.5) / 937 s = 28 ms.
  CHECK(last.find("938/938 ") == 0);
  CHECK(last.find(" 27s 28ms/step - accuracy: 0.5418 - loss: 1.2867 - val_accuracy: 0.9291 - "
                  "val_loss: 2.3000e-04") != std::string::npos);
  CHECK(format_step_time(2.4) == " 2s/step");
  CHECK(format_step_time(0.0004) == " 400us/step");
}

}  // namespace repro

namespace repro {

TEST_CASE("colour only on a terminal, and not when NO_COLOR is set to anything", "[progress]") {
  const char* old = std::getenv("NO_COLOR");
  const std::string saved = old ? old : "";
  unsetenv("NO_COLOR");
  CHECK(use_color(true));
  CHECK_FALSE(use_color(false));
  setenv("NO_COLOR", "1", 1);
  CHECK_FALSE(use_color(true));
  setenv("NO_COLOR", "", 1);  // empty: as if unset (no-color.org)
  CHECK(use_color(true));
  if (old)
    setenv("NO_COLOR", saved.c_str(), 1);
  else
    unsetenv("NO_COLOR");
  // The bar's text: Keras's ANSI codes with colour, none without.
  Progbar plain(10, false, 0.0), colored(10, true, 0.0);
  CHECK(plain.line(10, {{"loss", 0.5}}, true, 1.0).find("\x1b[") == std::string::npos);
  CHECK(colored.line(10, {{"loss", 0.5}}, true, 1.0).find("\x1b[") != std::string::npos);
}

}  // namespace repro
