// Helpers shared by the op tests: deterministic test tensors from the project's RNG, geometry
// builders with Keras's output-size rules, and a relative error with a floor.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "rng/seed_stream.h"

namespace repro::test {

// n values uniform in [lo, hi), a pure function of (seed, i).
inline std::vector<float> random_tensor(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::vector<float> v(n);
  StreamKey key{seed, 0x7E57u};
  for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * bits_to_unit_float(stream_bits(key, i));
  return v;
}

// max |a - b| / max(|b|, floor) over all elements: near-zero values are compared absolutely.
inline double max_relative_error(const std::vector<float>& a, const std::vector<float>& b,
                                 double floor = 1e-3) {
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    double d = std::fabs(double(a[i]) - double(b[i])) / std::max(std::fabs(double(b[i])), floor);
    worst = std::max(worst, d);
  }
  return a.size() == b.size() ? worst : INFINITY;
}

// Keras output size: valid = floor((in - k) / s) + 1, same = ceil(in / s) with the extra pad
// at the bottom/right.
inline ConvGeometry conv_geometry(int n, int c, int h, int w, int k, int r, int s, int stride_h,
                                  int stride_w, bool same, bool bias, bool relu) {
  ConvGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.stride_h = stride_h, g.stride_w = stride_w, g.bias = bias, g.relu = relu;
  if (same) {
    g.oh = (h + stride_h - 1) / stride_h;
    g.ow = (w + stride_w - 1) / stride_w;
    int pad_h = std::max((g.oh - 1) * stride_h + r - h, 0);
    int pad_w = std::max((g.ow - 1) * stride_w + s - w, 0);
    g.pad_top = pad_h / 2, g.pad_bottom = pad_h - pad_h / 2;
    g.pad_left = pad_w / 2, g.pad_right = pad_w - pad_w / 2;
  } else {
    g.oh = (h - r) / stride_h + 1;
    g.ow = (w - s) / stride_w + 1;
  }
  return g;
}

inline PoolGeometry pool_geometry(int n, int c, int h, int w, int r, int s, int stride_h,
                                  int stride_w, bool same) {
  ConvGeometry cg = conv_geometry(n, c, h, w, 1, r, s, stride_h, stride_w, same, false, false);
  PoolGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.r = r, g.s = s, g.stride_h = stride_h,
  g.stride_w = stride_w;
  g.pad_top = cg.pad_top, g.pad_left = cg.pad_left, g.pad_bottom = cg.pad_bottom;
  g.pad_right = cg.pad_right, g.oh = cg.oh, g.ow = cg.ow;
  return g;
}

inline size_t input_size(const ConvGeometry& g) { return size_t(g.n) * g.c * g.h * g.w; }
inline size_t output_size(const ConvGeometry& g) { return size_t(g.n) * g.k * g.oh * g.ow; }
inline size_t weight_size(const ConvGeometry& g) { return size_t(g.k) * g.c * g.r * g.s; }

// Host <-> backend copies for tests.
inline Array to_backend(Backend& backend, const std::vector<float>& host) {
  Array a = backend.alloc(host.size());
  backend.upload(host.data(), a.data(), host.size());
  return a;
}
inline std::vector<float> to_host(Backend& backend, const Array& a) {
  std::vector<float> host(a.size());
  backend.download(a.data(), host.data(), a.size());
  return host;
}

// Bit for bit: a signed zero or a NaN's payload counts, as == would not.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
inline bool same_bits(const std::vector<std::vector<float>>& a,
                      const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (!same_bits(a[i], b[i])) return false;
  return true;
}

// The results of run(backend) on oneDNN at 1, 2 and 4 threads (and on `also`, other backends at
// those thread counts), each equal bit for bit to the reference backend's: for ops that these
// backends run as the reference loops, or as rearranged loops with the same bits.
template <class Run>
void check_onednn_bitwise_at_thread_counts(Run run, const std::vector<std::string>& also = {}) {
  auto reference = make_backend("reference", {});
  const auto want = run(*reference);
  std::vector<std::string> backends = {"onednn"};
  backends.insert(backends.end(), also.begin(), also.end());
  for (const std::string& name : backends) {
    for (int threads : {1, 2, 4}) {
      auto backend = make_backend(name, BackendOptions{threads, true});
      INFO(name << ", " << threads << " threads");
      CHECK(same_bits(run(*backend), want));
    }
  }
}

}  // namespace repro::test
