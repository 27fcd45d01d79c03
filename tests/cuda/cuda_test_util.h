// Helpers for the [cuda] tests: skip without a device, move vectors to and from a backend,
// deterministic test data from the run seed stream, and the error measures the tests assert on.
// No vendor headers here: the tests see the GPU only through the Backend interface, and reach
// the cuDNN backend through the module loader like repro does.
#pragma once

#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda_module.h"
#include "backend/reference/reference_backend.h"
#include "rng/seed_stream.h"

// Ends the test (passing, with a visible warning) on a machine without a CUDA device.
#define REPRO_REQUIRE_CUDA_DEVICE()          \
  do {                                       \
    if (::repro::cuda_device_count() == 0) { \
      REPRO_SKIP("no CUDA device");          \
    }                                        \
  } while (0)

namespace repro::test {

// The test binary lives in BUILD/tests and the module beside BUILD/repro, so the loader's own
// choice (beside the executable) would miss it: name it, unless the caller already did.
inline const bool kModuleFromBuild = [] {
  const auto module = std::filesystem::path(REPRO_EXE).parent_path() / "librepro_cudnn.so";
  return setenv("REPRO_CUDNN_MODULE", module.c_str(), 0) == 0;
}();

// n floats uniform in [lo, hi), a pure function of `salt` (the seed stream's initializer purpose).
inline std::vector<float> random_floats(size_t n, uint32_t salt, float lo = -1.0f,
                                        float hi = 1.0f) {
  const StreamKey key = derive_key(20240531, Purpose::initializer, salt, 7);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * bits_to_unit_float(stream_bits(key, i));
  return v;
}

inline Array to_device(Backend& backend, const std::vector<float>& host) {
  Array a = backend.alloc(host.size());
  backend.upload(host.data(), a.data(), host.size());
  return a;
}

inline std::vector<float> to_host(Backend& backend, const Array& a) {
  std::vector<float> host(a.size());
  backend.download(a.data(), host.data(), a.size());
  return host;
}

// max |a - b| / max |b|: the error relative to the reference's scale (b is the reference).
inline double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::fmax(diff, std::fabs(double(a[i]) - double(b[i])));
    scale = std::fmax(scale, std::fabs(double(b[i])));
  }
  return scale == 0 ? diff : diff / scale;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr double kTolerance = 1e-5;

}  // namespace repro::test
