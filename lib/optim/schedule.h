// Keras 3 learning-rate schedules (keras.optimizers.schedules): the rate an optimizer step uses
// as a pure function of the iterations done before it, in float32 like Keras's ops. No state of
// its own: a checkpoint's iteration count restores it exactly.
#pragma once

#include <cstdint>

#include "config/config.h"

namespace repro {

// The learning rate of the step that follows `iterations` completed steps (Keras evaluates the
// schedule at optimizer.iterations before incrementing it). A constant rate when the config has
// no schedule.
float learning_rate_at(const OptimizerConfig& config, int64_t iterations);

}  // namespace repro
