// Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011), the generator behind JAX's PRNG keys. Pure function of (key, counter).
#pragma once

#include <array>
#include <cstdint>

#include "core/hd.h"

namespace repro {

REPRO_HD uint32_t rotl32(uint32_t x, uint32_t r) { return (x << r) | (x >> (32u - r)); }

// Returns threefry2x32_20(key, counter) as in Random123 (and jax._src.prng.threefry2x32).
REPRO_HD void threefry2x32(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t* out) {
  const uint32_t rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  const uint32_t ks[3] = {k0, k1, 0x1BD11BDAu ^ k0 ^ k1};
  uint32_t x0 = c0 + ks[0];
  uint32_t x1 = c1 + ks[1];
  for (uint32_t r = 0; r < 20; ++r) {
    x0 += x1;
    x1 = rotl32(x1, rot[r % 8]);
    x1 ^= x0;
    if (r % 4 == 3) {  // key injection after every four rounds
      const uint32_t i = (r + 1) / 4;
      x0 += ks[i % 3];
      x1 += ks[(i + 1) % 3] + i;
    }
  }
  out[0] = x0;
  out[1] = x1;
}

inline std::array<uint32_t, 2> threefry2x32(std::array<uint32_t, 2> key,
                                            std::array<uint32_t, 2> counter) {
  std::array<uint32_t, 2> out{};
  threefry2x32(key[0], key[1], counter[0], counter[1], out.data());
  return out;
}

}  // namespace repro
