// TensorFlow's stateless float32 random kernels on CPU, reproduced from
// tensorflow/core/kernels/stateless_random_ops.cc, random_op_cpu.h and
// tensorflow/core/lib/random/{philox_random.h, random_distributions.h}.
// Output group g (four values) reads Philox block counter + g (uniform, normal) or a stream of
// words starting at block counter + 256 * g (truncated normal); groups are independent, so the
// split over threads never changes a value. Not here: doubles, half types, the GPU kernels.
#include "rng/tf_random.h"

#include <cmath>
#include <cstring>

#include "rng/parallel.h"
#include "rng/philox.h"

namespace repro {

PhiloxState tf_key_counter_from_seed(int32_t seed0, int32_t seed1) {
  const uint64_t s0 = static_cast<uint64_t>(static_cast<int64_t>(seed0));
  const uint64_t s1 = static_cast<uint64_t>(static_cast<int64_t>(seed1));
  const uint32_t counter[4] = {static_cast<uint32_t>(s0), static_cast<uint32_t>(s0 >> 32),
                               static_cast<uint32_t>(s1), static_cast<uint32_t>(s1 >> 32)};
  uint32_t mix[4];
  philox4x32_10(0x3ec8f720u, 0x02461e29u, counter, mix);
  PhiloxState state;
  state.key[0] = mix[0];
  state.key[1] = mix[1];
  state.counter[2] = mix[2];
  state.counter[3] = mix[3];
  return state;
}

PhiloxState philox_skip(PhiloxState state, uint64_t blocks) {
  const uint32_t lo = static_cast<uint32_t>(blocks);
  uint32_t hi = static_cast<uint32_t>(blocks >> 32);
  state.counter[0] += lo;
  if (state.counter[0] < lo) ++hi;
  state.counter[1] += hi;
  if (state.counter[1] < hi && ++state.counter[2] == 0) ++state.counter[3];
  return state;
}

float tf_uint32_to_float(uint32_t x) {
  const uint32_t bits = (127u << 23) | (x & 0x7fffffu);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f - 1.0f;
}

void tf_box_muller(uint32_t x0, uint32_t x1, float* f0, float* f1) {
  const float epsilon = 1.0e-7f;
  float u1 = tf_uint32_to_float(x0);
  if (u1 < epsilon) u1 = epsilon;
  // TF writes 2.0f * M_PI * u: M_PI is a double, so the product is formed in double.
  const float v1 = static_cast<float>(2.0f * M_PI * static_cast<double>(tf_uint32_to_float(x1)));
  const float u2 = std::sqrt(-2.0f * std::log(u1));
  ::sincosf(v1, f0, f1);  // TF on Linux calls sincosf
  *f0 *= u2;
  *f1 *= u2;
}

namespace {

void philox_block(const PhiloxState& state, uint32_t* out) {
  philox4x32_10(state.key[0], state.key[1], state.counter, out);
}

// SingleSampleAdapter<PhiloxRandom>: one 32-bit word at a time from consecutive blocks.
struct WordStream {
  PhiloxState state;
  uint32_t block[4] = {0, 0, 0, 0};
  int used = 4;

  uint32_t next() {
    if (used == 4) {
      philox_block(state, block);
      state = philox_skip(state, 1);
      used = 0;
    }
    return block[used++];
  }
};

}  // namespace

void tf_stateless_uniform(PhiloxState state, int64_t n, float* out, int threads) {
  parallel_blocks(n, 4, threads, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin / 4; g * 4 < end; ++g) {
      uint32_t words[4];
      philox_block(philox_skip(state, static_cast<uint64_t>(g)), words);
      for (int j = 0; j < 4 && g * 4 + j < end; ++j) out[g * 4 + j] = tf_uint32_to_float(words[j]);
    }
  });
}

void tf_stateless_normal(PhiloxState state, int64_t n, float* out, int threads) {
  parallel_blocks(n, 4, threads, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin / 4; g * 4 < end; ++g) {
      uint32_t words[4];
      philox_block(philox_skip(state, static_cast<uint64_t>(g)), words);
      float values[4];
      tf_box_muller(words[0], words[1], &values[0], &values[1]);
      tf_box_muller(words[2], words[3], &values[2], &values[3]);
      for (int j = 0; j < 4 && g * 4 + j < end; ++j) out[g * 4 + j] = values[j];
    }
  });
}

void tf_stateless_truncated_normal(PhiloxState state, int64_t n, float* out, int threads) {
  // TruncatedNormalDistribution: pairs of words -> Box-Muller, keep |x| < 2 until four kept.
  // TF reserves 256 samples per output: a group of four starts 1024 words (256 Philox blocks)
  // after the previous one, and may read on past its reserve.
  constexpr uint64_t kBlocksPerGroup = 4 * 256 / 4;
  parallel_blocks(n, 4, threads, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin / 4; g * 4 < end; ++g) {
      WordStream words{philox_skip(state, static_cast<uint64_t>(g) * kBlocksPerGroup)};
      float values[4];
      int kept = 0;
      while (kept < 4) {
        const uint32_t x0 = words.next();
        const uint32_t x1 = words.next();
        float f[2];
        tf_box_muller(x0, x1, &f[0], &f[1]);
        for (int i = 0; i < 2 && kept < 4; ++i)
          if (std::fabs(f[i]) < 2.0f) values[kept++] = f[i];
      }
      for (int j = 0; j < 4 && g * 4 + j < end; ++j) out[g * 4 + j] = values[j];
    }
  });
}

}  // namespace repro
