// Blocked threefry for dropout: one threefry2x32 call gives the bits of elements 2j and 2j+1
// (seed_stream.h: bits(i) = threefry(key, [i / 2, i >> 33])[i % 2]); a block of calls runs as
// plain integer loops that GCC vectorizes, with AVX2 / AVX-512 clones picked at run time.
// Integer arithmetic only, so every clone gives the same bits.
#include "rng/dropout_bulk.h"

#include <algorithm>
#include <cstdint>

namespace repro {
namespace {

constexpr size_t kBlock = 512;  // threefry calls per block (1024 elements)

// out0[t], out1[t] = threefry2x32(key, [first + t, high]) for t < count; 20 rounds unrolled.
// Integer operations only: every clone (x86-64's wider ISAs) gives the same bits.
#if defined(__x86_64__)
#define REPRO_THREEFRY_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REPRO_THREEFRY_CLONES
#endif
REPRO_THREEFRY_CLONES void threefry_block(uint32_t k0, uint32_t k1, uint32_t first, uint32_t high,
                                          size_t count, uint32_t* __restrict out0,
                                          uint32_t* __restrict out1) {
  const uint32_t k2 = 0x1BD11BDAu ^ k0 ^ k1;
  for (size_t t = 0; t < count; ++t) {
    uint32_t x0 = first + static_cast<uint32_t>(t) + k0;
    uint32_t x1 = high + k1;
#define REPRO_ROUND(r)                   \
  x0 += x1;                              \
  x1 = (x1 << (r)) | (x1 >> (32 - (r))); \
  x1 ^= x0;
    REPRO_ROUND(13) REPRO_ROUND(15) REPRO_ROUND(26) REPRO_ROUND(6) x0 += k1;
    x1 += k2 + 1;
    REPRO_ROUND(17) REPRO_ROUND(29) REPRO_ROUND(16) REPRO_ROUND(24) x0 += k2;
    x1 += k0 + 2;
    REPRO_ROUND(13) REPRO_ROUND(15) REPRO_ROUND(26) REPRO_ROUND(6) x0 += k0;
    x1 += k1 + 3;
    REPRO_ROUND(17) REPRO_ROUND(29) REPRO_ROUND(16) REPRO_ROUND(24) x0 += k1;
    x1 += k2 + 4;
    REPRO_ROUND(13) REPRO_ROUND(15) REPRO_ROUND(26) REPRO_ROUND(6) x0 += k2;
    x1 += k0 + 5;
#undef REPRO_ROUND
    out0[t] = x0;
    out1[t] = x1;
  }
}

}  // namespace

void dropout_range(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate,
                   uint64_t* mask) {
  const float scale = 1.0f / (1.0f - rate);
  uint32_t bits0[kBlock], bits1[kBlock];
  // keep(i) for every element, written to y and (when asked) to the mask.
  auto put = [&](size_t i, bool keep) {
    if (y) y[i] = keep ? x[i] * scale : 0.0f;
    if (mask) {
      const uint64_t bit = uint64_t{1} << (i & 63);
      mask[i >> 6] = keep ? mask[i >> 6] | bit : mask[i >> 6] & ~bit;
    }
  };
  size_t i = begin;
  // Element i draws stream element key.offset + i: an odd offset pairs an element with its
  // neighbour in another range, so that rare case goes one element at a time.
  if (key.offset & 1) {
    for (; i < end; ++i) put(i, dropout_keep(key, i, rate));
    return;
  }
  // An odd start: its pair partner lies before the range; do it alone.
  if (i < end && (i & 1)) {
    put(i, dropout_keep(key, i, rate));
    ++i;
  }
  while (end - i >= 2) {
    const uint64_t pair = (key.offset + i) >> 1;
    // Pairs in one block must share the counter's high word (i >> 33).
    const uint64_t high_end = ((pair >> 32) + 1) << 32;
    const size_t count =
        static_cast<size_t>(std::min<uint64_t>({kBlock, (end - i) / 2, high_end - pair}));
    threefry_block(key.k0, key.k1, static_cast<uint32_t>(pair), static_cast<uint32_t>(pair >> 32),
                   count, bits0, bits1);
    if (!mask) {
      for (size_t t = 0; t < count; ++t, i += 2) {
        y[i] = bits_to_unit_float(bits0[t]) >= rate ? x[i] * scale : 0.0f;
        y[i + 1] = bits_to_unit_float(bits1[t]) >= rate ? x[i + 1] * scale : 0.0f;
      }
    } else {
      // begin is a multiple of 64 and i even: the bits of a word are gathered in a register
      // and stored once (a read-modify-write per element was most of the masked forward).
      uint64_t word = 0;
      for (size_t t = 0; t < count; ++t, i += 2) {
        const bool keep0 = bits_to_unit_float(bits0[t]) >= rate;
        const bool keep1 = bits_to_unit_float(bits1[t]) >= rate;
        if (y) {
          y[i] = keep0 ? x[i] * scale : 0.0f;
          y[i + 1] = keep1 ? x[i + 1] * scale : 0.0f;
        }
        word |= (uint64_t{keep0} | uint64_t{keep1} << 1) << (i & 63);
        if (((i + 2) & 63) == 0) {
          mask[i >> 6] = word;
          word = 0;
        }
      }
      if (i & 63) {  // a word left part-way: keep its bits beyond i
        const uint64_t done = (uint64_t{1} << (i & 63)) - 1;
        mask[i >> 6] = (mask[i >> 6] & ~done) | word;
      }
    }
  }
  if (i < end) put(i, dropout_keep(key, i, rate));
}

void dropout_masked(const float* dy, float* dx, size_t begin, size_t end, const uint64_t* mask,
                    float rate) {
  const float scale = 1.0f / (1.0f - rate);
  for (size_t i = begin; i < end; ++i) {
    dx[i] = (mask[i >> 6] >> (i & 63)) & 1 ? dy[i] * scale : 0.0f;
  }
}

}  // namespace repro
