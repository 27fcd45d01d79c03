// std::thread fan-out over element ranges for the counter-based distributions.
// No pool: a draw is a one-off at model construction, thread start-up is noise next to it.
#include "rng/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace repro {

void parallel_blocks(int64_t n, int64_t align, int threads,
                     const std::function<void(int64_t begin, int64_t end)>& fn) {
  constexpr int64_t kMinPerThread = 1 << 15;  // below this, threads cost more than they save
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t groups = (n + align - 1) / align;
  const int64_t max_useful = std::max<int64_t>(1, n / kMinPerThread);
  const int64_t workers = std::min<int64_t>({threads, max_useful, std::max<int64_t>(groups, 1)});
  if (workers <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers));
  for (int64_t w = 0; w < workers; ++w) {
    const int64_t begin = std::min(n, groups * w / workers * align);
    const int64_t end = std::min(n, groups * (w + 1) / workers * align);
    if (begin < end) pool.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  for (auto& t : pool) t.join();
}

}  // namespace repro
