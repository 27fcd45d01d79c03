// Keras's monitor callbacks as the epoch loop runs them, with Keras 3's rules (keras/src/
// callbacks): EarlyStopping, ModelCheckpoint(save_best_only=True) and ReduceLROnPlateau. Pure
// decisions over the epoch's history values; the trainer applies them (stops, keeps weights,
// writes best.safetensors, changes the learning rate). Their state is part of TrainState, so a
// checkpoint carries it and a resumed run decides exactly as the uninterrupted one.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "config/config.h"

namespace repro {

struct CallbackState {
  // EarlyStopping: best value, epochs without improvement, the epoch it stopped at and the best
  // epoch (0-based; -1 none), whether best weights were kept.
  double stop_best = std::numeric_limits<double>::quiet_NaN();  // NaN: not yet set
  int64_t stop_wait = 0;
  int64_t stopped_epoch = -1;
  int64_t best_epoch = -1;
  // ModelCheckpoint(save_best_only): the best value saved and its epoch (0-based; -1 none).
  double save_best = std::numeric_limits<double>::quiet_NaN();
  int64_t saved_epoch = -1;
  // ReduceLROnPlateau: best value, wait, cooldown, and the learning rate it set (the config's
  // constant until it first reduces it).
  double lr_best = std::numeric_limits<double>::quiet_NaN();
  int64_t lr_wait = 0;
  int64_t cooldown = 0;
  std::optional<float> learning_rate;
};

// What the epoch's end asks of the trainer.
struct CallbackActions {
  bool stop = false;                   // EarlyStopping: end training after this epoch
  bool keep_best_weights = false;      // EarlyStopping(restore_best_weights): copy the weights now
  bool save_best = false;              // checkpoint.best: write best.safetensors now
  std::optional<float> learning_rate;  // ReduceLROnPlateau: the rate from the next step on
};

// Runs the callbacks of `training` after epoch `epoch` (0-based), whose history values are
// `logs` (loss, accuracy, val_loss, val_accuracy), at learning rate `learning_rate`.
CallbackActions on_epoch_end(const TrainingConfig& training, int64_t epoch,
                             const std::map<std::string, double>& logs, float learning_rate,
                             CallbackState& state);

// Whether `monitor` with `mode` is maximized (accuracy, or mode max) as EarlyStopping and
// ModelCheckpoint infer it.
bool monitor_maximizes(const MonitorConfig& monitor);

}  // namespace repro
