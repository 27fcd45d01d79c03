// Adam, AdamW, SGD and RMSprop as objects that hold their state (slots per parameter, the step
// count t) and update weights through the backend (adam_update, sgd_update, rmsprop_update,
// weight_decay_update), at the rate of the config's schedule. They never see layers or files:
// the trainer hands them (weight, gradient) arrays and stores their exported state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/config.h"

namespace repro {

// One state tensor for checkpoints: "<parameter name>/m", "<parameter name>/velocity", ...
struct OptimizerSlot {
  std::string name;
  std::vector<float> data;  // backend layout of the parameter, on the host
};

class Optimizer {
 public:
  explicit Optimizer(const OptimizerConfig& config) : config_(config) {}
  virtual ~Optimizer() = default;
  // One update of every weight from its gradient; weights[i] and grads[i] have the sizes given
  // at construction. Increments iterations() first (Keras counts t from 1).
  virtual void step(const std::vector<Array>& weights, const std::vector<Array>& grads) = 0;
  int64_t iterations() const { return iterations_; }
  // The rate the next step() uses: the schedule at iterations() (Keras's optimizer.learning_rate),
  // or the one set_learning_rate() gave.
  float learning_rate() const;
  // A constant rate from now on, as ReduceLROnPlateau assigns Keras's float32 variable.
  void set_learning_rate(float rate) { constant_rate_ = rate; }

  // State for an exact resume: the slots (in construction order) and iterations().
  virtual std::vector<OptimizerSlot> export_state() const = 0;
  // Throws InputError when a slot is missing or has the wrong size.
  virtual void import_state(const std::vector<OptimizerSlot>& slots, int64_t iterations) = 0;

 protected:
  OptimizerConfig config_;
  int64_t iterations_ = 0;
  std::optional<float> constant_rate_;
};

// `names` and `sizes` describe the parameters in the order step() receives them.
// Throws InputError for an unknown optimizer name.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, Backend& backend,
                                          const std::vector<std::string>& names,
                                          const std::vector<size_t>& sizes);

}  // namespace repro
