// Keras 3's built-in initializers (keras/src/initializers/*.py) on top of lib/rng: the same
// formulas, defaults and float32 roundings, so a seeded initializer gives Keras's bits.
// Orthogonal's QR runs in double here (Keras runs it in float32), so only its draw is exact.
// Not here: seeds of unseeded initializers (the caller takes them from the run's seed stream).
#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "init/initializers.h"
#include "rng/jax_random.h"
#include "rng/tf_random.h"

namespace repro {

namespace {

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw InputError("initializer shape has a negative dimension " + std::to_string(d));
    n *= d;
  }
  return n;
}

// Keras's draw_seed turns an int seed s into the backend's seed pair [s, 0].
JaxKey jax_key(int64_t seed) {
  if (seed < 0 || seed > 0xFFFFFFFFll)
    throw InputError("seed " + std::to_string(seed) +
                     " does not fit JAX's uint32 seed; use 0 .. 4294967295");
  return jax_key_from_seed(static_cast<uint32_t>(seed));
}

PhiloxState tf_state(int64_t seed) {
  if (seed < -2147483648ll || seed > 2147483647ll)
    throw InputError("seed " + std::to_string(seed) +
                     " does not fit TensorFlow's int32 seed; use -2147483648 .. 2147483647");
  return tf_key_counter_from_seed(static_cast<int32_t>(seed), 0);
}

// Keras's `sample * stddev + mean`: two float32 ops, each rounded (eager, nothing fused).
void scale_and_shift(std::vector<float>& values, double scale, double shift) {
  const float s = static_cast<float>(scale), t = static_cast<float>(shift);
  for (float& v : values) {
    const float product = v * s;
    v = product + t;
  }
}

// Householder QR of a (rows >= cols) in double; returns the reduced Q (rows, cols) with its
// columns multiplied by sign(diag(R)), as Keras's `q *= sign(diag(r))`.
std::vector<double> orthogonal_q(std::vector<double> a, int64_t rows, int64_t cols) {
  // a: (rows, cols) row-major; reflectors are stored below the diagonal of a, R on and above.
  std::vector<double> beta(static_cast<size_t>(cols), 0.0);
  std::vector<double> r_diag(static_cast<size_t>(cols), 0.0);
  auto at = [&](int64_t i, int64_t j) -> double& { return a[static_cast<size_t>(i * cols + j)]; };
  for (int64_t k = 0; k < cols; ++k) {
    double norm2 = 0.0;
    for (int64_t i = k; i < rows; ++i) norm2 += at(i, k) * at(i, k);
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) {  // a zero column: R's diagonal is 0, Keras's sign(0) zeroes Q's column
      r_diag[static_cast<size_t>(k)] = 0.0;
      continue;
    }
    const double alpha = at(k, k) > 0 ? -norm : norm;  // R(k, k), sign chosen against cancellation
    r_diag[static_cast<size_t>(k)] = alpha;
    at(k, k) -= alpha;  // v = x - alpha e1, stored in place
    double v_norm2 = 0.0;
    for (int64_t i = k; i < rows; ++i) v_norm2 += at(i, k) * at(i, k);
    beta[static_cast<size_t>(k)] = 2.0 / v_norm2;
    for (int64_t j = k + 1; j < cols; ++j) {
      double dot = 0.0;
      for (int64_t i = k; i < rows; ++i) dot += at(i, k) * at(i, j);
      dot *= beta[static_cast<size_t>(k)];
      for (int64_t i = k; i < rows; ++i) at(i, j) -= dot * at(i, k);
    }
  }
  // Q = H_0 H_1 ... H_{cols-1} applied to the first cols columns of the identity.
  std::vector<double> q(static_cast<size_t>(rows * cols), 0.0);
  for (int64_t j = 0; j < cols; ++j) q[static_cast<size_t>(j * cols + j)] = 1.0;
  for (int64_t k = cols - 1; k >= 0; --k) {
    const double b = beta[static_cast<size_t>(k)];
    if (b == 0.0) continue;
    for (int64_t j = 0; j < cols; ++j) {
      double dot = 0.0;
      for (int64_t i = k; i < rows; ++i) dot += at(i, k) * q[static_cast<size_t>(i * cols + j)];
      dot *= b;
      for (int64_t i = k; i < rows; ++i) q[static_cast<size_t>(i * cols + j)] -= dot * at(i, k);
    }
  }
  for (int64_t j = 0; j < cols; ++j) {
    const double d = r_diag[static_cast<size_t>(j)];
    const double sign = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    for (int64_t i = 0; i < rows; ++i) q[static_cast<size_t>(i * cols + j)] *= sign;
  }
  return q;
}

std::vector<float> orthogonal(const std::vector<int64_t>& shape, double gain, int64_t seed,
                              RngKind rng, int threads) {
  if (shape.size() < 2)
    throw InputError("orthogonal needs a shape with at least 2 dimensions, got " +
                     std::to_string(shape.size()));
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const int64_t cols = shape.back();
  const int64_t tall = std::max(rows, cols), wide = std::min(rows, cols);
  // The draw is Keras's random.normal(flat_shape=(tall, wide)), row-major.
  const std::vector<float> draw = keras_random_normal(tall * wide, 0.0, 1.0, seed, rng, threads);
  std::vector<double> a(draw.begin(), draw.end());
  const std::vector<double> q = orthogonal_q(std::move(a), tall, wide);  // (tall, wide)
  std::vector<float> out(static_cast<size_t>(rows * cols));
  const float g = static_cast<float>(gain);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      // rows < cols: Keras transposes q (cols, rows) to (rows, cols).
      const double v = rows >= cols ? q[static_cast<size_t>(i * wide + j)]
                                    : q[static_cast<size_t>(j * wide + i)];
      out[static_cast<size_t>(i * cols + j)] = g * static_cast<float>(v);
    }
  return out;
}

struct Variance {
  double scale = 1.0;
  std::string mode = "fan_in";
  std::string distribution = "truncated_normal";
};

std::vector<float> variance_scaling(const Variance& v, const std::vector<int64_t>& shape,
                                    int64_t seed, RngKind rng, int threads) {
  if (!(v.scale > 0.0))
    throw InputError("variance_scaling scale must be positive, got " + std::to_string(v.scale));
  const Fans fans = compute_fans(shape);
  double scale = v.scale;
  if (v.mode == "fan_in") {
    scale /= std::max(1.0, fans.fan_in);
  } else if (v.mode == "fan_out") {
    scale /= std::max(1.0, fans.fan_out);
  } else if (v.mode == "fan_avg") {
    scale /= std::max(1.0, (fans.fan_in + fans.fan_out) / 2.0);
  } else {
    throw InputError("variance_scaling mode '" + v.mode +
                     "' is not one of fan_in, fan_out, fan_avg");
  }
  const int64_t n = element_count(shape);
  if (v.distribution == "truncated_normal") {
    // 0.879...: the stddev of a unit normal truncated to (-2, 2).
    const double stddev = std::sqrt(scale) / 0.87962566103423978;
    return keras_truncated_normal(n, 0.0, stddev, seed, rng, threads);
  }
  if (v.distribution == "untruncated_normal")
    return keras_random_normal(n, 0.0, std::sqrt(scale), seed, rng, threads);
  if (v.distribution == "uniform") {
    const double limit = std::sqrt(3.0 * scale);
    return keras_random_uniform(n, -limit, limit, seed, rng, threads);
  }
  throw InputError("variance_scaling distribution '" + v.distribution +
                   "' is not one of truncated_normal, untruncated_normal, uniform");
}

}  // namespace

Fans compute_fans(const std::vector<int64_t>& shape) {
  Fans fans;
  if (shape.empty()) {
    fans.fan_in = fans.fan_out = 1;
  } else if (shape.size() == 1) {
    fans.fan_in = fans.fan_out = static_cast<double>(shape[0]);
  } else if (shape.size() == 2) {
    fans.fan_in = static_cast<double>(shape[0]);
    fans.fan_out = static_cast<double>(shape[1]);
  } else {
    double receptive_field = 1;  // kernel dims before (in, out): (kh, kw, in, out)
    for (size_t i = 0; i + 2 < shape.size(); ++i) receptive_field *= static_cast<double>(shape[i]);
    fans.fan_in = static_cast<double>(shape[shape.size() - 2]) * receptive_field;
    fans.fan_out = static_cast<double>(shape.back()) * receptive_field;
  }
  return fans;
}

std::vector<float> keras_random_normal(int64_t n, double mean, double stddev, int64_t seed,
                                       RngKind rng, int threads) {
  std::vector<float> out(static_cast<size_t>(n));
  if (rng == RngKind::jax) {
    jax_normal(jax_key(seed), n, out.data(), threads);
  } else {
    tf_stateless_normal(tf_state(seed), n, out.data(), threads);
  }
  scale_and_shift(out, stddev, mean);
  return out;
}

std::vector<float> keras_truncated_normal(int64_t n, double mean, double stddev, int64_t seed,
                                          RngKind rng, int threads) {
  std::vector<float> out(static_cast<size_t>(n));
  if (rng == RngKind::jax) {
    jax_truncated_normal(jax_key(seed), n, -2.0f, 2.0f, out.data(), threads);
  } else {
    tf_stateless_truncated_normal(tf_state(seed), n, out.data(), threads);
  }
  scale_and_shift(out, stddev, mean);
  return out;
}

std::vector<float> keras_random_uniform(int64_t n, double minval, double maxval, int64_t seed,
                                        RngKind rng, int threads) {
  std::vector<float> out(static_cast<size_t>(n));
  const float lo = static_cast<float>(minval), hi = static_cast<float>(maxval);
  if (rng == RngKind::jax) {
    jax_uniform(jax_key(seed), n, lo, hi, out.data(), threads);  // scaled inside the jit
  } else {
    // stateless_uniform: rnd * (maxval - minval) + minval, three float32 ops.
    tf_stateless_uniform(tf_state(seed), n, out.data(), threads);
    const float span = hi - lo;
    for (float& v : out) {
      const float product = v * span;
      v = product + lo;
    }
  }
  return out;
}

std::vector<float> initialize(const InitializerSpec& spec, const std::vector<int64_t>& shape,
                              int64_t seed, RngKind rng) {
  return initialize(spec, shape, seed, rng, 0);
}

std::vector<float> initialize(const InitializerSpec& spec, const std::vector<int64_t>& shape,
                              int64_t seed, RngKind rng, int threads) {
  const std::string& name = spec.name;
  const int64_t n = element_count(shape);
  if (name == "zeros") return std::vector<float>(static_cast<size_t>(n), 0.0f);
  if (name == "ones") return std::vector<float>(static_cast<size_t>(n), 1.0f);
  if (name == "constant")
    return std::vector<float>(static_cast<size_t>(n), static_cast<float>(spec.value));
  if (name == "random_normal")
    return keras_random_normal(n, spec.mean, spec.stddev, seed, rng, threads);
  if (name == "truncated_normal")
    return keras_truncated_normal(n, spec.mean, spec.stddev, seed, rng, threads);
  if (name == "random_uniform")
    return keras_random_uniform(n, spec.minval, spec.maxval, seed, rng, threads);
  if (name == "orthogonal") return orthogonal(shape, spec.gain, seed, rng, threads);
  Variance v;
  if (name == "variance_scaling") {
    v = Variance{spec.scale, spec.mode, spec.distribution};
  } else if (name == "glorot_normal") {
    v = Variance{1.0, "fan_avg", "truncated_normal"};
  } else if (name == "glorot_uniform") {
    v = Variance{1.0, "fan_avg", "uniform"};
  } else if (name == "he_normal") {
    v = Variance{2.0, "fan_in", "truncated_normal"};
  } else if (name == "he_uniform") {
    v = Variance{2.0, "fan_in", "uniform"};
  } else if (name == "lecun_normal") {
    v = Variance{1.0, "fan_in", "truncated_normal"};
  } else if (name == "lecun_uniform") {
    v = Variance{1.0, "fan_in", "uniform"};
  } else {
    throw InputError("unknown initializer '" + name + "'; known: random_normal, random_uniform, " +
                     "truncated_normal, variance_scaling, glorot_normal, glorot_uniform, " +
                     "he_normal, he_uniform, lecun_normal, lecun_uniform, orthogonal, zeros, " +
                     "ones, constant");
  }
  return variance_scaling(v, shape, seed, rng, threads);
}

}  // namespace repro
