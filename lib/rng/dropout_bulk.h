// Inverted dropout over a range of elements, fast on the CPU: the same keep decisions as
// dropout_keep() (rng/seed_stream.h) element for element, computed a block of threefry calls
// at a time so the compiler vectorizes them. The reference backend keeps the per-element loop
// as the oracle; tests compare the two.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rng/seed_stream.h"

namespace repro {

// y[i] = keep(i) ? x[i] * (1 / (1 - rate)) : 0 for i in [begin, end); x may equal y.
// With `mask`, also stores keep(i) as bit i % 64 of mask[i / 64]; begin must then be a multiple
// of 64 (so ranges on different threads write different words). With y null (and a mask) only
// the mask is written: for layouts that apply it away from the plain order.
void dropout_range(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate,
                   uint64_t* mask = nullptr);

// The backward from a stored mask: dx[i] = bit i ? dy[i] * (1 / (1 - rate)) : 0 for i in
// [begin, end); the same bits as dropout_range on dy, without drawing them again.
void dropout_masked(const float* dy, float* dx, size_t begin, size_t end, const uint64_t* mask,
                    float rate);

}  // namespace repro
