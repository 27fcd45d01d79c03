// The run's seed stream: every random choice of a run is a pure function of
// (run seed, purpose, a, b, element), never of call order, thread count or device.
//
// Derivation (part of the file-format promise; changing it changes every run's bits):
//   k0      = [low32(seed), high32(seed)]
//   k1      = threefry2x32(k0, [purpose, a])
//   key     = threefry2x32(k1, [b, 0x5EED])
//   bits(i) = threefry2x32(key, [i / 2, 0])[i % 2]                  (32 random bits, element i)
// Purposes and their (a, b):
//   initializer: a = construction index k of an unseeded initializer, b = 0;
//                its Keras int seed is bits(0) & 0x7FFFFFFF.
//   shuffle:     a = epoch (0 for every epoch when reshuffle_each_iteration is false), b = 0;
//                draw j of the shuffle is the 64-bit value bits(2j) | bits(2j+1) << 32.
//   dropout:     a = layer index in the model, b = global training step (0-based);
//                element i is kept when uniform(bits(i)) >= rate, i the element's plain index in
//                the whole batch (a rank that holds images from j on starts at offset j * size).
//   augmentation: a = layer index in the model, b = global training step (0-based); the seed is
//                the layer's own `seed` when given, else the run seed; image j of the batch
//                (its global position, whoever computes it) draws uniform(bits(2j)) and
//                uniform(bits(2j + 1)).
#pragma once

#include <array>
#include <cstdint>

#include "core/hd.h"
#include "rng/threefry.h"

namespace repro {

enum class Purpose : uint32_t {
  initializer = 1,
  shuffle = 2,
  dropout = 3,
  augmentation = 4,
  recurrent_dropout = 5,  // recurrent layers' masks: a = layer index * 16 + mask
};

struct StreamKey {
  uint32_t k0 = 0;
  uint32_t k1 = 0;
  uint64_t offset = 0;  // dropout: element i of a call is element offset + i of the stream
};

REPRO_HD StreamKey derive_key(uint64_t seed, Purpose purpose, uint32_t a, uint32_t b) {
  uint32_t k1[2], key[2];
  threefry2x32(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
               static_cast<uint32_t>(purpose), a, k1);
  threefry2x32(k1[0], k1[1], b, 0x5EEDu, key);
  return StreamKey{key[0], key[1], 0};
}

// 32 random bits for element i of the stream `key`.
REPRO_HD uint32_t stream_bits(StreamKey key, uint64_t i) {
  uint32_t out[2];
  threefry2x32(key.k0, key.k1, static_cast<uint32_t>(i >> 1), static_cast<uint32_t>(i >> 33), out);
  return out[i & 1];
}

// The top 24 bits as a float in [0, 1): exact, identical on every device.
REPRO_HD float bits_to_unit_float(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// Inverted dropout keeps element i of a call (stream element key.offset + i) when u >= rate.
REPRO_HD bool dropout_keep(StreamKey key, uint64_t i, float rate) {
  return bits_to_unit_float(stream_bits(key, key.offset + i)) >= rate;
}

// The Keras int seed of the k-th unseeded initializer of a run.
inline uint32_t initializer_seed(uint64_t run_seed, uint32_t k) {
  return stream_bits(derive_key(run_seed, Purpose::initializer, k, 0), 0) & 0x7FFFFFFFu;
}

}  // namespace repro
