// Philox-4x32 with 10 rounds (Salmon et al., SC 2011), the generator behind TensorFlow's
// stateless random ops. Pure function of (key, counter).
#pragma once

#include <array>
#include <cstdint>

#include "core/hd.h"

namespace repro {

REPRO_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Returns philox4x32_10(key, counter) as in Random123 and
// tensorflow/core/lib/random/philox_random.h.
REPRO_HD void philox4x32_10(uint32_t k0, uint32_t k1, const uint32_t* counter, uint32_t* out) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {  // the key is bumped between rounds
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, &hi0, &lo0);
    philox_mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

inline std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 2> key,
                                             std::array<uint32_t, 4> counter) {
  std::array<uint32_t, 4> out{};
  philox4x32_10(key[0], key[1], counter.data(), out.data());
  return out;
}

}  // namespace repro
