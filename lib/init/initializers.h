// The 11 Keras built-in initializers (plus Zeros/Ones/Constant), with Keras 3 formulas and
// defaults, drawing bit-identical float32 values to Keras 3 on JAX (rng jax) or TensorFlow (rng
// tf).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace repro {

enum class RngKind { jax, tf };

// One initializer as a config names it. Arguments a given initializer does not use are ignored;
// the defaults are Keras's (VarianceScaling: scale 1, fan_in, truncated_normal).
struct InitializerSpec {
  std::string name = "glorot_uniform";   // Keras snake_case name, e.g. "he_normal", "zeros"
  std::optional<int64_t> seed;           // unset: drawn from the run's seed stream
  double mean = 0.0, stddev = 0.05;      // random_normal, truncated_normal
  double minval = -0.05, maxval = 0.05;  // random_uniform
  double scale = 1.0;                    // variance_scaling
  std::string mode = "fan_in";           // fan_in | fan_out | fan_avg
  std::string distribution = "truncated_normal";  // truncated_normal | untruncated_normal | uniform
  double gain = 1.0;                              // orthogonal
  double value = 0.0;                             // constant
};

// The initializer names accepted by config and CLI, in the recipe's order.
const std::vector<std::string>& initializer_names();
bool is_known_initializer(const std::string& name);

// Keras compute_fans: dense (in, out) -> (in, out); conv (kh, kw, in, out) -> (kh*kw*in,
// kh*kw*out).
struct Fans {
  double fan_in = 0, fan_out = 0;
};
Fans compute_fans(const std::vector<int64_t>& shape);

// Draws `shape` (Keras order: dense (in, out), conv (kh, kw, in, out)) row-major, as Keras's
// initializer(shape, dtype="float32") with seed `seed` on the chosen backend would.
// Bit-identical for any thread count.
std::vector<float> initialize(const InitializerSpec& spec, const std::vector<int64_t>& shape,
                              int64_t seed, RngKind rng);
// The same with an explicit thread count (<= 0: all hardware threads); the values never depend
// on it.
std::vector<float> initialize(const InitializerSpec& spec, const std::vector<int64_t>& shape,
                              int64_t seed, RngKind rng, int threads);

// Keras's random ops with an int seed, float32, on the chosen backend: the building blocks of
// initialize(), also used by tests. stddev/mean and min/max are applied as Keras applies them
// (separate float32 multiply and add).
std::vector<float> keras_random_normal(int64_t n, double mean, double stddev, int64_t seed,
                                       RngKind rng, int threads = 0);
std::vector<float> keras_random_uniform(int64_t n, double minval, double maxval, int64_t seed,
                                        RngKind rng, int threads = 0);
std::vector<float> keras_truncated_normal(int64_t n, double mean, double stddev, int64_t seed,
                                          RngKind rng, int threads = 0);

}  // namespace repro
