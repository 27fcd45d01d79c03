// Keras 3 on the JAX backend, bit for bit: jax.random's classic (pre-0.5, non-partitionable)
// threefry bit layout, jax.random.uniform / normal / truncated_normal in float32, and the
// float32 erf / erf_inv that XLA's CPU compiler emits for them (Giles' erfinv, fused multiply-adds
// where XLA contracts). It deliberately covers float32 only, and no key splitting.
#pragma once

#include <cstdint>

namespace repro {

// A raw JAX PRNG key (uint32[2]). Keras's draw_seed turns an int seed s into [s, 0].
struct JaxKey {
  uint32_t k0 = 0;
  uint32_t k1 = 0;
};

JaxKey jax_key_from_seed(uint32_t seed);

// Element i of jax.random.bits(key, (n,)) with the classic layout: the counters 0..n-1 (plus a
// 0 when n is odd) are split into two halves that form threefry's (x0, x1) pairs; the outputs
// are concatenated back, so element i < n/2 is word 0 of pair i and the rest are word 1.
uint32_t jax_random_bits(JaxKey key, int64_t n, int64_t i);

// The float32 erf and erf_inv of XLA on CPU (xla/client/lib/math.cc), with its contractions.
float xla_erf_f32(float x);
float xla_erf_inv_f32(float x);

// jax.random.uniform(key, (n,), float32, minval, maxval) -> out[0..n).
void jax_uniform(JaxKey key, int64_t n, float minval, float maxval, float* out, int threads);
// jax.random.normal(key, (n,), float32).
void jax_normal(JaxKey key, int64_t n, float* out, int threads);
// jax.random.truncated_normal(key, lower, upper, (n,), float32).
void jax_truncated_normal(JaxKey key, int64_t n, float lower, float upper, float* out, int threads);

}  // namespace repro
