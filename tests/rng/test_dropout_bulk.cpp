// The blocked, vectorized dropout gives exactly the per-element dropout_keep decisions.
#include <catch2/catch.hpp>

#include <vector>

#include "rng/dropout_bulk.h"

using namespace repro;

TEST_CASE("dropout_range keeps exactly the elements dropout_keep keeps, for any range") {
  const size_t n = 5000;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.25f + static_cast<float>(i % 97);
  for (float rate : {0.0f, 0.2f, 0.5f, 0.9f}) {
    const StreamKey key = derive_key(812, Purpose::dropout, 3, 41);
    const float scale = 1.0f / (1.0f - rate);
    // Odd and even starts and ends, blocks longer than one vector block.
    for (auto [begin, end] :
         {std::pair<size_t, size_t>{0, n}, {1, n}, {7, 4096}, {4095, 4097}, {10, 11}, {33, 33}}) {
      std::vector<float> y(n, -1.0f);
      dropout_range(x.data(), y.data(), begin, end, key, rate);
      for (size_t i = 0; i < n; ++i) {
        const float expected = (i < begin || i >= end)      ? -1.0f
                               : dropout_keep(key, i, rate) ? x[i] * scale
                                                            : 0.0f;
        REQUIRE(y[i] == expected);
      }
    }
  }
}
