// Keras 3 on the TensorFlow backend, bit for bit: tf.random.stateless_uniform / normal /
// truncated_normal on CPU (Philox4x32-10, TF's seed scrambling, Uint32ToFloat, Box-Muller,
// rejection with 256 reserved samples per group of four). Float32 only; the mean/stddev and
// min/max scaling that the Python wrappers apply stay with the caller.
#pragma once

#include <cstdint>

namespace repro {

// A Philox key and 128-bit counter, as TF's StatelessRandomGetKeyCounter returns them.
struct PhiloxState {
  uint32_t key[2] = {0, 0};
  uint32_t counter[4] = {0, 0, 0, 0};
};

// GenerateKey (tensorflow/core/kernels/stateless_random_ops.cc) for an int32 seed pair: the
// seeds, sign-extended to 64 bits, are one Philox block under a fixed key; that block becomes
// the key (words 0, 1) and the high half of the counter (words 2, 3).
PhiloxState tf_key_counter_from_seed(int32_t seed0, int32_t seed1);

// The counter advanced by `blocks` Philox blocks (PhiloxRandom::Skip, 128-bit carry).
PhiloxState philox_skip(PhiloxState state, uint64_t blocks);

// TF's Uint32ToFloat: the low 23 bits as a mantissa under exponent 0, minus 1 -> [0, 1).
float tf_uint32_to_float(uint32_t x);

// BoxMullerFloat from random_distributions.h: two uniform words -> two normals.
void tf_box_muller(uint32_t x0, uint32_t x1, float* f0, float* f1);

// StatelessRandomUniformV2 (float32, [0, 1)), StatelessRandomNormalV2 and
// StatelessTruncatedNormalV2 (|x| < 2), each filling out[0..n).
void tf_stateless_uniform(PhiloxState state, int64_t n, float* out, int threads);
void tf_stateless_normal(PhiloxState state, int64_t n, float* out, int threads);
void tf_stateless_truncated_normal(PhiloxState state, int64_t n, float* out, int threads);

}  // namespace repro
