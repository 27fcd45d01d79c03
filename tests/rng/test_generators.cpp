// Known-answer tests for the two counter-based generators (Random123's kat_vectors) and the
// seed stream's independence of purposes and indices.
#include <catch2/catch.hpp>

#include <set>

#include "rng/philox.h"
#include "rng/seed_stream.h"
#include "rng/threefry.h"

using namespace repro;

TEST_CASE("threefry2x32_20 matches the Random123 known-answer vectors") {
  CHECK(threefry2x32({0u, 0u}, {0u, 0u}) == std::array<uint32_t, 2>{0x6b200159u, 0x99ba4efeu});
  CHECK(threefry2x32({0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
        std::array<uint32_t, 2>{0x1cb996fcu, 0xbb002be7u});
  // pi digits: key {0x13198a2e, 0x03707344}, counter {0x243f6a88, 0x85a308d3}
  CHECK(threefry2x32({0x13198a2eu, 0x03707344u}, {0x243f6a88u, 0x85a308d3u}) ==
        std::array<uint32_t, 2>{0xc4923a9cu, 0x483df7a0u});
}

TEST_CASE("philox4x32_10 matches the Random123 known-answer vectors") {
  CHECK(philox4x32_10({0u, 0u}, {0u, 0u, 0u, 0u}) ==
        std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu},
                      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}) ==
        std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0xa4093822u, 0x299f31d0u},
                      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}) ==
        std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("seed stream keys differ across purposes, indices and seeds") {
  std::set<std::pair<uint32_t, uint32_t>> keys;
  int count = 0;
  for (uint64_t seed : {0ull, 42ull, 43ull, 1ull << 32})
    for (Purpose p : {Purpose::initializer, Purpose::shuffle, Purpose::dropout})
      for (uint32_t a = 0; a < 4; ++a)
        for (uint32_t b = 0; b < 4; ++b) {
          const StreamKey k = derive_key(seed, p, a, b);
          keys.insert({k.k0, k.k1});
          ++count;
        }
  CHECK(keys.size() == static_cast<size_t>(count));
}

TEST_CASE("seed stream is a pure function of its key and element") {
  const StreamKey k = derive_key(42, Purpose::dropout, 3, 7);
  CHECK(stream_bits(k, 5) == stream_bits(derive_key(42, Purpose::dropout, 3, 7), 5));
  CHECK(stream_bits(k, 4) != stream_bits(k, 5));
  // bits(i) = threefry(key, [i / 2, 0])[i % 2]: the documented derivation.
  CHECK(stream_bits(k, 5) == threefry2x32({k.k0, k.k1}, {2u, 0u})[1]);
}

TEST_CASE("unseeded initializers get distinct 31-bit seeds that repeat per run seed") {
  std::set<uint32_t> seeds;
  for (uint32_t k = 0; k < 100; ++k) {
    const uint32_t s = initializer_seed(42, k);
    CHECK(s <= 0x7FFFFFFFu);
    CHECK(s == initializer_seed(42, k));
    seeds.insert(s);
  }
  CHECK(seeds.size() == 100);
  CHECK(initializer_seed(42, 0) != initializer_seed(43, 0));
}
