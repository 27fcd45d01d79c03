// The blocked, vectorized dropout gives exactly the per-element dropout_keep decisions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "rng/dropout_bulk.h"

using namespace repro;

TEST_CASE("dropout_range keeps exactly the elements dropout_keep keeps, for any range") {
  const size_t n = 5000;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = (i % 3 ? 0.25f : -0.25f) + static_cast<float>(i % 97);
  for (float rate : {0.0f, 0.2f, 0.5f, 0.9f}) {
    for (uint64_t offset : {0, 1, 6}) {
      StreamKey key = derive_key(812, Purpose::dropout, 3, 41);
      key.offset = offset;  // an odd offset pairs elements across ranges
      const float scale = 1.0f / (1.0f - rate);
      // Odd and even starts and ends, ranges longer than one block.
      for (auto [begin, end] :
           {std::pair<size_t, size_t>{0, n}, {1, n}, {7, 4096}, {4095, 4097}, {10, 11}, {33, 33}}) {
        std::vector<float> y(n, -1.0f);
        std::vector<uint8_t> keep(n, 7);
        dropout_range(x.data(), y.data(), begin, end, key, rate, keep.data() + begin);
        for (size_t i = 0; i < n; ++i) {
          const bool inside = i >= begin && i < end;
          const bool kept = inside && dropout_keep(key, i, rate);
          const float expected = !inside ? -1.0f : kept ? x[i] * scale : 0.0f;
          // Bits, not values: a dropped negative value is +0, as the reference's select gives.
          REQUIRE(std::memcmp(&y[i], &expected, sizeof(float)) == 0);
          REQUIRE(keep[i] == (inside ? uint8_t{kept} : uint8_t{7}));
        }
        // The flags alone, and applied apart from drawing them.
        std::vector<uint8_t> flags(end - begin);
        dropout_flags(begin, end, key, rate, flags.data());
        REQUIRE(std::equal(flags.begin(), flags.end(), keep.begin() + long(begin)));
        std::vector<float> z(n, -1.0f);
        dropout_apply(x.data() + begin, z.data() + begin, end - begin, flags.data(), rate);
        REQUIRE(std::memcmp(z.data(), y.data(), n * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("dropout_apply drops a NaN or an infinity to +0 and scales what it keeps") {
  const float inf = std::numeric_limits<float>::infinity(),
              nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-inf, nan, -0.0f, 3.0f, inf, -2.0f};
  const std::vector<uint8_t> keep = {0, 0, 0, 1, 1, 1};
  std::vector<float> y(x.size(), 5.0f);
  dropout_apply(x.data(), y.data(), x.size(), keep.data(), 0.5f);
  for (int i = 0; i < 3; i++) {
    CHECK(y[i] == 0.0f);
    CHECK(!std::signbit(y[i]));
  }
  CHECK(y[3] == 6.0f);
  CHECK(y[4] == inf);
  CHECK(y[5] == -4.0f);
}

TEST_CASE(
    "DropoutMasks finds a forward's flags by key, size, rate and layout, and forgets the "
    "oldest") {
  DropoutMasks masks;
  const StreamKey key = derive_key(1, Purpose::dropout, 1, 1);
  uint8_t* first = masks.claim(key, 10, 0.5f, 1);
  first[0] = 1;
  CHECK(masks.find(key, 10, 0.5f, 1) == first);
  CHECK(masks.find(key, 11, 0.5f, 1) == nullptr);
  CHECK(masks.find(key, 10, 0.25f, 1) == nullptr);
  CHECK(masks.find(key, 10, 0.5f, 16) == nullptr);
  StreamKey moved = key;
  moved.offset = 2;
  CHECK(masks.find(moved, 10, 0.5f, 1) == nullptr);
  CHECK(masks.find(key, 0, 0.5f, 1) == nullptr);
  // Eight more forwards: the first one's flags are gone.
  for (uint32_t i = 0; i < 7; i++) masks.claim(derive_key(2, Purpose::dropout, i, 0), 10, 0.5f, 1);
  CHECK(masks.find(key, 10, 0.5f, 1) == first);
  masks.claim(derive_key(3, Purpose::dropout, 0, 0), 10, 0.5f, 1);
  CHECK(masks.find(key, 10, 0.5f, 1) == nullptr);
}
