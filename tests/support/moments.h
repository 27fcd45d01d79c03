// Sample moments and range of a draw, shared by the rng and init statistics tests.
#pragma once

#include <algorithm>
#include <vector>

namespace repro_test {

struct Moments {
  double mean = 0, var = 0, min = 0, max = 0;
};

inline Moments moments(const std::vector<float>& v) {
  double sum = 0, sum2 = 0;
  for (float x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  for (float x : v) sum2 += (x - mean) * (x - mean);
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {mean, sum2 / static_cast<double>(v.size()), *lo, *hi};
}

}  // namespace repro_test
