// Inverted dropout over a range of elements, fast on the CPU: the same keep decisions as
// dropout_keep() (rng/seed_stream.h) element for element, computed a block of threefry calls
// at a time so the compiler vectorizes them. The reference backend keeps the per-element loop
// as the oracle; tests compare the two.
#pragma once

#include <cstddef>

#include "rng/seed_stream.h"

namespace repro {

// y[i] = keep(i) ? x[i] * (1 / (1 - rate)) : 0 for i in [begin, end); x may equal y.
void dropout_range(const float* x, float* y, size_t begin, size_t end, StreamKey key, float rate);

}  // namespace repro
