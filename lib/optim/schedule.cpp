// The three schedules as keras/src/optimizers/schedules/learning_rate_schedule.py computes them:
// every operand cast to float32 first (Python floats become float32 tensors), then float32 ops.
//   exponential_decay: lr0 * rate ^ (step / decay_steps), the exponent floored with staircase
//   cosine_decay: lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))
//                 + alpha)
//   piecewise_constant_decay: values[i] for boundaries[i-1] < step <= boundaries[i]
// Not here: warmup, polynomial and inverse-time decay, cosine restarts.
// The power and the cosine are the project's own (core/fixed_math.h, binary64 rounded once to
// float32), not the C library's, whose results may differ between its builds for different CPUs:
// a schedule gives the same rate on every architecture (determinism: portable).
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/fixed_math.h"

namespace repro {

float learning_rate_at(const OptimizerConfig& config, int64_t iterations) {
  const ScheduleConfig& s = config.schedule;
  if (s.name.empty()) return static_cast<float>(config.learning_rate);
  const float step = static_cast<float>(iterations);
  if (s.name == "exponential_decay") {
    const float initial = static_cast<float>(s.initial_learning_rate);
    float p = step / static_cast<float>(s.decay_steps);
    if (s.staircase) p = std::floor(p);
    const float power = static_cast<float>(
        fixed::pow(static_cast<double>(static_cast<float>(s.decay_rate)), static_cast<double>(p)));
    return initial * power;
  }
  if (s.name == "cosine_decay") {
    const float initial = static_cast<float>(s.initial_learning_rate);
    const float decay_steps = static_cast<float>(s.decay_steps);
    const float completed = std::min(step, decay_steps) / decay_steps;
    const float pi = static_cast<float>(M_PI);
    const float cosine = static_cast<float>(fixed::cos(static_cast<double>(pi * completed)));
    const float cosine_decayed = 0.5f * (1.0f + cosine);
    const float decayed =
        static_cast<float>(1.0 - s.alpha) * cosine_decayed + static_cast<float>(s.alpha);
    return initial * decayed;
  }
  // piecewise_constant_decay: the step compared as an integer, like Keras casting the
  // boundaries to the step's dtype.
  for (size_t i = 0; i < s.boundaries.size(); ++i) {
    if (iterations <= s.boundaries[i]) return static_cast<float>(s.values[i]);
  }
  return static_cast<float>(s.values.back());
}

}  // namespace repro
