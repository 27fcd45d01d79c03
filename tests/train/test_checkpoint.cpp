// Checkpoints and exact resume: a run stopped at an epoch end, mid-epoch, or by the stop flag (as
// SIGINT sets it) and resumed in a fresh trainer gives the uninterrupted run's history bits and
// weights; old checkpoints are pruned to `keep`; a changed config is refused with its keys.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "train_helpers.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

size_t count_checkpoints(const std::string& run_dir) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(run_dir + "/checkpoints"))
    n += entry.path().extension() == ".json";
  return n;
}

// The uninterrupted run's history and final weight digest.
std::pair<History, std::string> uninterrupted(const RunConfig& config) {
  Trainer trainer(config, TrainOptions{"reference", 1});
  TrainObserver quiet;
  trainer.run(quiet);
  return {trainer.state().history, trainer.weights_sha256()};
}

}  // namespace

TEST_CASE("resuming from an epoch-end checkpoint reproduces the uninterrupted run",
          "[checkpoint]") {
  const std::string dir = test::temp_dir("ckpt_epoch");
  RunConfig config = test::quadrant_config(dir, 96, 32);  // 6 steps per epoch
  config.training.epochs = 3;
  config.training.checkpoint.enabled = true;
  const auto [history, digest] = uninterrupted(config);

  {
    Trainer first(config, TrainOptions{"reference", 1});
    first.set_run_dir(dir + "/run");
    TrainObserver quiet;
    first.run(quiet, 6);  // stops after epoch 1 and its checkpoint
    CHECK(first.state().epoch == 1);
  }
  Trainer resumed(config, TrainOptions{"reference", 1});
  resumed.set_run_dir(dir + "/run");
  restore_latest_checkpoint(dir + "/run", resumed);
  CHECK(resumed.state().epoch == 1);
  CHECK(resumed.state().global_step == 6);
  TrainObserver quiet;
  resumed.run(quiet);
  CHECK(test::same_history_bits(resumed.state().history, history));
  CHECK(resumed.weights_sha256() == digest);
  CHECK(count_checkpoints(dir + "/run") == 2);  // keep: 2 of the 3 epoch checkpoints
  fs::remove_all(dir);
}

TEST_CASE("resuming from a mid-epoch checkpoint reproduces the uninterrupted run", "[checkpoint]") {
  const std::string dir = test::temp_dir("ckpt_mid");
  RunConfig config = test::quadrant_config(dir, 100, 32);  // 7 steps, the last one of 4 images
  config.training.checkpoint.enabled = true;
  config.training.checkpoint.every_steps = 4;
  config.training.checkpoint.keep = 3;
  const auto [history, digest] = uninterrupted(config);

  {
    Trainer first(config, TrainOptions{"reference", 1});
    first.set_run_dir(dir + "/run");
    TrainObserver quiet;
    first.run(quiet, 9);  // checkpoints at steps 4 and 8, and at step 9 where it stops
  }
  Trainer resumed(config, TrainOptions{"reference", 1});
  const std::string from = restore_latest_checkpoint(dir + "/run", resumed);
  CHECK(from.find("step-000000009.json") != std::string::npos);
  CHECK(resumed.state().epoch == 1);
  CHECK(resumed.state().batch == 2);
  TrainObserver quiet;
  resumed.run(quiet);
  CHECK(test::same_history_bits(resumed.state().history, history));
  CHECK(resumed.weights_sha256() == digest);
  fs::remove_all(dir);
}

TEST_CASE("the stop flag ends the run after the step with a checkpoint that resumes exactly",
          "[checkpoint]") {
  const std::string dir = test::temp_dir("ckpt_stop");
  const RunConfig config = test::quadrant_config(dir, 64, 32);
  const auto [history, digest] = uninterrupted(config);

  volatile std::sig_atomic_t stop = 1;  // as if SIGINT arrived during the first step
  {
    Trainer first(config, TrainOptions{"reference", 1});
    first.set_run_dir(dir + "/run");
    first.set_stop_flag(&stop);
    TrainObserver quiet;
    first.run(quiet);
    CHECK(first.stopped());
    CHECK(first.state().global_step == 1);
    CHECK(fs::exists(first.last_checkpoint()));
  }
  Trainer resumed(config, TrainOptions{"reference", 1});
  restore_latest_checkpoint(dir + "/run", resumed);
  TrainObserver quiet;
  resumed.run(quiet);
  CHECK(test::same_history_bits(resumed.state().history, history));
  CHECK(resumed.weights_sha256() == digest);
  fs::remove_all(dir);
}

TEST_CASE("a resume with a changed config is refused naming the key, but epochs may change",
          "[checkpoint]") {
  const std::string dir = test::temp_dir("ckpt_config");
  RunConfig config = test::quadrant_config(dir, 64, 32);
  config.training.epochs = 1;
  config.training.checkpoint.enabled = true;
  {
    Trainer first(config, TrainOptions{"reference", 1});
    first.set_run_dir(dir + "/run");
    TrainObserver quiet;
    first.run(quiet);
  }
  RunConfig more_epochs = config;
  more_epochs.training.epochs = 2;
  Trainer ok(more_epochs, TrainOptions{"reference", 1});
  CHECK_NOTHROW(restore_latest_checkpoint(dir + "/run", ok));

  RunConfig other = config;
  other.training.optimizer.learning_rate = 0.02;
  Trainer refused(other, TrainOptions{"reference", 1});
  try {
    restore_latest_checkpoint(dir + "/run", refused);
    FAIL("a changed learning rate was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("training.optimizer.learning_rate") != std::string::npos);
  }
  CHECK_THROWS_AS(restore_latest_checkpoint(dir + "/nothing", ok), InputError);
  fs::remove_all(dir);
}

}  // namespace repro

namespace repro {

namespace fs = std::filesystem;

TEST_CASE("the trace locates a one-ulp weight nudge at its step and tensor", "[trace]") {
  const std::string dir = test::temp_dir("trace");
  RunConfig config = test::quadrant_config(dir, 64, 32);  // 4 steps per epoch
  config.training.trace.every = 1;
  Trainer clean(config, TrainOptions{"reference", 1}), nudged(config, TrainOptions{"reference", 1});
  TrainObserver quiet;
  clean.run(quiet);
  nudged.run(quiet, 5);  // steps 1..5 as in the clean run
  std::vector<NamedTensor> weights = nudged.model().export_weights();
  REQUIRE(weights[2].name == "dense/kernel");
  weights[2].data[3] = std::nextafter(weights[2].data[3], 1.0f);
  nudged.model().import_weights(weights);
  nudged.run(quiet);

  const std::vector<TraceEntry>& a = clean.state().trace;
  const std::vector<TraceEntry>& b = nudged.state().trace;
  REQUIRE(a.size() == b.size());
  // The 4 initial weights (step 0), then 8 steps x (4 params + grads, 5 layers x 2).
  CHECK(a.size() == 4 + 8 * (2 * 4 + 2 * 5));
  CHECK(a[0].step == 0);
  size_t first = 0;
  while (first < a.size() && a[first].sha256 == b[first].sha256) ++first;
  REQUIRE(first < a.size());
  CHECK(a[first].step == 6);
  CHECK(a[first].epoch == 2);
  CHECK(a[first].batch == 1);
  CHECK(a[first].tensor == "dense/kernel");
  fs::remove_all(dir);
}

}  // namespace repro
