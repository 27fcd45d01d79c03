// Blocked threefry for dropout: one threefry2x32 call gives the bits of elements 2j and 2j+1
// (seed_stream.h: bits(i) = threefry(key, [i / 2, i >> 33])[i % 2]); a block of calls runs as
// plain integer loops that GCC vectorizes, with AVX2 / AVX-512 clones picked at run time.
// Integer arithmetic and one exact compare only, so every clone gives the same bits.
#include "rng/dropout_bulk.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "core/wider_isas.h"

namespace repro {
namespace {

constexpr size_t kBlock = 512;  // threefry calls per block (1024 elements)

// bits[2t], bits[2t + 1] = threefry2x32(key, [first + t, high]) for t < count; 20 rounds
// unrolled, the two words interleaved so that element i's bits sit at bits[i - first element].
REPRO_WIDER_ISAS void threefry_block(uint32_t k0, uint32_t k1, uint32_t first, uint32_t high,
                                     size_t count, uint32_t* __restrict bits) {
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
    bits[2 * t] = x0;
    bits[2 * t + 1] = x1;
  }
}

// keep[j] = unit(bits[j]) >= rate, as dropout_keep decides.
REPRO_WIDER_ISAS void bits_to_flags(const uint32_t* __restrict bits, size_t count, float rate,
                                    uint8_t* __restrict keep) {
  for (size_t j = 0; j < count; ++j) keep[j] = bits_to_unit_float(bits[j]) >= rate;
}

REPRO_WIDER_ISAS void apply_flags(const float* x, float* y, size_t count,
                                  const uint8_t* __restrict keep, float scale) {
  // keep ? x * scale : +0 as a bit mask: a branch on random flags mispredicts, and GCC does not
  // vectorize the select.
  for (size_t i = 0; i < count; ++i) {
    const uint32_t kept = std::bit_cast<uint32_t>(x[i] * scale);
    y[i] = std::bit_cast<float>(kept & (0u - uint32_t{keep[i]}));
  }
}

}  // namespace

void dropout_flags(size_t begin, size_t end, StreamKey key, float rate, uint8_t* keep) {
  size_t i = begin;
  // Element i draws stream element key.offset + i: an odd offset pairs an element with its
  // neighbour in another range, so that rare case goes one element at a time.
  if (key.offset & 1) {
    for (; i < end; ++i) keep[i - begin] = dropout_keep(key, i, rate);
    return;
  }
  // An odd start: its pair partner lies before the range; do it alone.
  if (i < end && (i & 1)) {
    keep[0] = dropout_keep(key, i, rate);
    ++i;
  }
  uint32_t bits[2 * kBlock];
  while (end - i >= 2) {
    const uint64_t pair = (key.offset + i) >> 1;
    // Pairs in one block must share the counter's high word (i >> 33).
    const uint64_t high_end = ((pair >> 32) + 1) << 32;
    const size_t count =
        static_cast<size_t>(std::min<uint64_t>({kBlock, (end - i) / 2, high_end - pair}));
    threefry_block(key.k0, key.k1, static_cast<uint32_t>(pair), static_cast<uint32_t>(pair >> 32),
                   count, bits);
    bits_to_flags(bits, 2 * count, rate, keep + (i - begin));
    i += 2 * count;
  }
  if (i < end) keep[i - begin] = dropout_keep(key, i, rate);
}

void dropout_apply(const float* x, float* y, size_t count, const uint8_t* keep, float rate) {
  apply_flags(x, y, count, keep, 1.0f / (1.0f - rate));
}

void dropout_range(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate,
                   uint8_t* keep) {
  uint8_t local[2 * kBlock];
  for (size_t s = begin; s < end; s += 2 * kBlock) {
    const size_t e = std::min(end, s + 2 * kBlock);
    uint8_t* flags = keep ? keep + (s - begin) : local;
    dropout_flags(s, e, key, rate, flags);
    if (y) dropout_apply(x + s, y + s, e - s, flags, rate);
  }
}

uint8_t* DropoutMasks::claim(StreamKey key, size_t count, float rate, int block) {
  Mask& mask = masks_[next_];
  next_ = (next_ + 1) % masks_.size();
  mask.key = key;
  mask.count = count;
  mask.rate = rate;
  mask.block = block;
  mask.keep.resize(count);
  return mask.keep.data();
}

const uint8_t* DropoutMasks::find(StreamKey key, size_t count, float rate, int block) const {
  for (const Mask& mask : masks_) {
    if (mask.count == count && mask.rate == rate && mask.block == block && mask.key.k0 == key.k0 &&
        mask.key.k1 == key.k1 && mask.key.offset == key.offset && !mask.keep.empty())
      return mask.keep.data();
  }
  return nullptr;
}

}  // namespace repro
