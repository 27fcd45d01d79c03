// Inverted dropout over a range of elements, fast on the CPU: the same keep decisions as
// dropout_keep() (rng/seed_stream.h) element for element, computed a block of threefry calls
// at a time so the compiler vectorizes them. The reference backend keeps the per-element loop
// as the oracle; tests compare the two.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rng/seed_stream.h"

namespace repro {

// keep[i - begin] = dropout_keep(key, i, rate) (1 or 0) for i in [begin, end).
void dropout_flags(size_t begin, size_t end, StreamKey key, float rate, uint8_t* keep);

// y[i] = keep[i] ? x[i] * (1 / (1 - rate)) : 0 for i < count; x may equal y.
void dropout_apply(const float* x, float* y, size_t count, const uint8_t* keep, float rate);

// y[i] = dropout_keep(key, i, rate) ? x[i] * (1 / (1 - rate)) : 0 for i in [begin, end); x may
// equal y. With `keep`, also stores the flags there as dropout_flags does (keep[i - begin]).
void dropout_range(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate,
                   uint8_t* keep = nullptr);

// The keep flags of a backend's last few dropout forwards, so that a backward applies its
// forward's flags instead of drawing them again (the same bits either way: the flags are a pure
// function of key, size and rate). One byte a value, in the tensor's own order.
class DropoutMasks {
 public:
  // Room for the flags of a forward of `count` values (`block`: the tensor's channel block, 1
  // when plain), replacing the oldest mask.
  uint8_t* claim(StreamKey key, size_t count, float rate, int block);
  // The flags stored for the same key, size, rate and layout; null when they are gone.
  const uint8_t* find(StreamKey key, size_t count, float rate, int block) const;

 private:
  struct Mask {
    StreamKey key;
    size_t count = 0;
    float rate = 0;
    int block = 1;
    std::vector<uint8_t> keep;
  };
  std::array<Mask, 8> masks_;  // the last 8 forwards (one per dropout layer of a step)
  size_t next_ = 0;
};

}  // namespace repro
