// Keras's EarlyStopping, ModelCheckpoint(save_best_only) and ReduceLROnPlateau decisions on
// given histories, worked out by hand from Keras 3's source (keras/src/callbacks/), and end to
// end: a run that stops early, keeps its best epoch and lowers its rate is resumed from a
// mid-run checkpoint to the uninterrupted run's bits.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "config/config.h"
#include "train/callbacks.h"

using namespace repro;

namespace {

// Feeds `values` of `key` epoch by epoch; returns the epoch (0-based) that stops, or -1.
int64_t stop_epoch(const TrainingConfig& t, const std::string& key,
                   const std::vector<double>& values, CallbackState& s) {
  for (size_t e = 0; e < values.size(); ++e) {
    if (on_epoch_end(t, static_cast<int64_t>(e), {{key, values[e]}}, 0.001f, s).stop)
      return static_cast<int64_t>(e);
  }
  return -1;
}

TrainingConfig early_stopping(const std::string& monitor, int patience) {
  TrainingConfig t;
  t.early_stopping.enabled = true;
  t.early_stopping.monitor.monitor = monitor;
  t.early_stopping.patience = patience;
  return t;
}

}  // namespace

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement, as Keras 3") {
  CallbackState s;
  CHECK(stop_epoch(early_stopping("val_loss", 2), "val_loss", {1.0, 0.9, 0.95, 0.96, 0.5}, s) == 3);
  CHECK(s.best_epoch == 1);
  CHECK(s.stop_best == 0.9);
  // patience 0 still never stops at epoch 0 (Keras: `epoch > 0`).
  CallbackState zero;
  CHECK(stop_epoch(early_stopping("loss", 0), "loss", {1.0, 1.0}, zero) == 1);
  // min_delta: an improvement smaller than it is none.
  TrainingConfig delta = early_stopping("loss", 1);
  delta.early_stopping.min_delta = 0.05;
  CallbackState d;
  CHECK(stop_epoch(delta, "loss", {1.0, 0.99}, d) == 1);
  // mode auto maximizes the accuracies.
  CallbackState a;
  CHECK(stop_epoch(early_stopping("val_accuracy", 1), "val_accuracy", {0.5, 0.6, 0.55}, a) == 2);
  // baseline: improvements that do not beat it do not reset the wait, but an improving epoch
  // never stops (Keras returns after recording it).
  TrainingConfig base = early_stopping("loss", 2);
  base.early_stopping.baseline = 0.5;
  CallbackState b;
  CHECK(stop_epoch(base, "loss", {0.8, 0.7, 0.6, 0.65}, b) == 3);
  // start_from_epoch: the first epochs are not watched.
  TrainingConfig warm = early_stopping("loss", 0);
  warm.early_stopping.start_from_epoch = 2;
  CallbackState w;
  CHECK(stop_epoch(warm, "loss", {1.0, 2.0, 3.0, 4.0}, w) == 3);
}

TEST_CASE("restore_best_weights keeps the first watched epoch, then every better one") {
  TrainingConfig t = early_stopping("loss", 5);
  t.early_stopping.restore_best_weights = true;
  CallbackState s;
  std::vector<bool> kept;
  for (double v : {1.0, 1.2, 0.8, 0.9})
    kept.push_back(on_epoch_end(t, static_cast<int64_t>(kept.size()), {{"loss", v}}, 0.1f, s)
                       .keep_best_weights);
  CHECK(kept == std::vector<bool>{true, false, true, false});
  CHECK(s.best_epoch == 2);
}

TEST_CASE("checkpoint.best saves each strictly better epoch by its monitor") {
  TrainingConfig t;
  t.checkpoint.enabled = true;
  t.checkpoint.best = true;
  t.checkpoint.best_monitor.monitor = "val_accuracy";
  CallbackState s;
  std::vector<bool> saved;
  for (double v : {0.5, 0.7, 0.7, 0.6, 0.8})
    saved.push_back(
        on_epoch_end(t, static_cast<int64_t>(saved.size()), {{"val_accuracy", v}}, 0.1f, s)
            .save_best);
  CHECK(saved == std::vector<bool>{true, true, false, false, true});
  CHECK(s.saved_epoch == 4);
}

TEST_CASE("ReduceLROnPlateau lowers the float32 rate after patience, with cooldown and min_lr") {
  TrainingConfig t;
  t.reduce_lr_on_plateau.enabled = true;
  t.reduce_lr_on_plateau.monitor.monitor = "loss";
  t.reduce_lr_on_plateau.factor = 0.5;
  t.reduce_lr_on_plateau.patience = 2;
  t.reduce_lr_on_plateau.cooldown = 1;
  t.reduce_lr_on_plateau.min_lr = 0.03;
  CallbackState s;
  float rate = 0.1f;
  std::vector<float> rates;
  for (int e = 0; e < 9; ++e) {
    const CallbackActions a = on_epoch_end(t, e, {{"loss", 1.0}}, rate, s);
    if (a.learning_rate) rate = *a.learning_rate;
    rates.push_back(rate);
  }
  // Epoch 0 sets the best; 1 and 2 wait, 2 reduces (cooldown 1); 3 ends the cooldown and, as
  // Keras does in the same epoch, waits once; 4 reduces to max(0.05 * 0.5, 0.03) = 0.03; then the
  // rate is at min_lr and stays.
  const float half = static_cast<float>(static_cast<double>(0.1f) * 0.5);
  CHECK(rates == std::vector<float>{0.1f, 0.1f, half, half, 0.03f, 0.03f, 0.03f, 0.03f, 0.03f});
  // min_delta: 1e-4 by default, so 0.99995 is no improvement on 1.0.
  TrainingConfig d;
  d.reduce_lr_on_plateau.enabled = true;
  d.reduce_lr_on_plateau.monitor.monitor = "loss";
  d.reduce_lr_on_plateau.patience = 1;
  CallbackState ds;
  on_epoch_end(d, 0, {{"loss", 1.0}}, 0.1f, ds);
  CHECK(on_epoch_end(d, 1, {{"loss", 0.99995}}, 0.1f, ds).learning_rate.has_value());
}
