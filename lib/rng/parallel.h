// Splits [0, n) into contiguous blocks and runs them on std::threads. The draws are counter-based,
// so which thread fills which block never changes a value; this only decides how fast it goes.
// It deliberately has no work stealing, no pool and no reductions.
#pragma once

#include <cstdint>
#include <functional>

namespace repro {

// Calls fn(begin, end) on blocks covering [0, n). Block boundaries are multiples of `align`
// (so a generator that emits groups of 4 never splits a group). threads <= 0: hardware threads.
// Small n runs on the calling thread.
void parallel_blocks(int64_t n, int64_t align, int threads,
                     const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace repro
