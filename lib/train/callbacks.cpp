// The three monitor callbacks. Comparisons run in double on the history's float32 values, as
// Keras compares the Python floats its logs hold.
#include "train/callbacks.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace repro {

bool monitor_maximizes(const MonitorConfig& m) {
  if (m.mode == "max") return true;
  if (m.mode == "min") return false;
  return m.monitor == "accuracy" || m.monitor == "val_accuracy";  // Keras: the metric's direction
}

CallbackActions on_epoch_end(const TrainingConfig& training, int64_t epoch,
                             const std::map<std::string, double>& logs, float learning_rate,
                             CallbackState& state) {
  CallbackActions actions;
  auto value_of = [&](const MonitorConfig& m) {
    const auto it = logs.find(m.monitor);
    REPRO_CHECK(it != logs.end(), "the history has no " + m.monitor + " (validate() checks it)");
    return it->second;
  };

  // ModelCheckpoint(save_best_only=True): strictly better than the best so far.
  if (training.checkpoint.enabled && training.checkpoint.best) {
    const MonitorConfig& m = training.checkpoint.best_monitor;
    const double current = value_of(m);
    const bool max = monitor_maximizes(m);
    if (std::isnan(state.save_best) ||
        (max ? current > state.save_best : current < state.save_best)) {
      state.save_best = current;
      state.saved_epoch = epoch;
      actions.save_best = true;
    }
  }

  // EarlyStopping.
  const EarlyStoppingConfig& stop = training.early_stopping;
  if (stop.enabled && epoch >= stop.start_from_epoch) {
    const double current = value_of(stop.monitor);
    const bool max = monitor_maximizes(stop.monitor);
    const double delta = max ? std::fabs(stop.min_delta) : -std::fabs(stop.min_delta);
    auto improves = [&](double value, double reference) {
      return max ? value - delta > reference : value - delta < reference;
    };
    if (std::isnan(state.stop_best)) state.stop_best = max ? -INFINITY : INFINITY;
    if (stop.restore_best_weights && state.best_epoch < 0) {
      actions.keep_best_weights = true;  // never set: the current weights are the best
      state.best_epoch = epoch;
    }
    state.stop_wait += 1;
    if (improves(current, state.stop_best)) {
      state.stop_best = current;
      state.best_epoch = epoch;
      if (stop.restore_best_weights) actions.keep_best_weights = true;
      if (!stop.baseline || improves(current, *stop.baseline)) state.stop_wait = 0;
    } else if (state.stop_wait >= stop.patience && epoch > 0) {
      state.stopped_epoch = epoch;
      actions.stop = true;
    }
  }

  // ReduceLROnPlateau (mode auto: "acc" in the monitor's name means max).
  const ReduceLrConfig& reduce = training.reduce_lr_on_plateau;
  if (reduce.enabled) {
    const double current = value_of(reduce.monitor);
    const bool max =
        reduce.monitor.mode == "max" ||
        (reduce.monitor.mode == "auto" && reduce.monitor.monitor.find("acc") != std::string::npos);
    if (std::isnan(state.lr_best)) state.lr_best = max ? -INFINITY : INFINITY;
    if (state.cooldown > 0) {
      state.cooldown -= 1;
      state.lr_wait = 0;
    }
    const bool better = max ? current > state.lr_best + reduce.min_delta
                            : current < state.lr_best - reduce.min_delta;
    if (better) {
      state.lr_best = current;
      state.lr_wait = 0;
    } else if (state.cooldown <= 0) {
      state.lr_wait += 1;
      if (state.lr_wait >= reduce.patience) {
        const double old_lr = learning_rate;  // the optimizer's float32 rate
        if (old_lr > static_cast<double>(static_cast<float>(reduce.min_lr))) {
          const double new_lr = std::max(old_lr * reduce.factor, reduce.min_lr);
          state.learning_rate = static_cast<float>(new_lr);  // into the float32 variable
          actions.learning_rate = state.learning_rate;
          state.cooldown = reduce.cooldown;
          state.lr_wait = 0;
        }
      }
    }
  }
  return actions;
}

}  // namespace repro
