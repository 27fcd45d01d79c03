// The hot loops of the portable backend, compiled once per x86-64 ISA (sse2, avx2, avx512) from
// one source (kernels_impl.h) and picked at run time. Every output is a fixed sequence of float32
// multiplications and additions (no FMA, no reassociation; docs/design/portable.md gives each
// order), so all ISA paths and compilers give the same bits; only how many outputs run side by side
// differs. Shapes and buffers are prepared by portable_backend.cpp, which owns threads and chunks.
#pragma once

#include <cstddef>
#include <string>

namespace repro::portable {

// Vectors run across 16 independent outputs; channel counts are padded up to a multiple of it.
constexpr int kLanes = 16;
inline int padded(int n) { return (n + kLanes - 1) / kLanes * kLanes; }
// Row kernels take kRowChannels channels a tile (at most; fewer on narrow ISAs).
constexpr int kRowChannels = 4;
inline int padded_rows(int n) { return (n + kRowChannels - 1) / kRowChannels * kRowChannels; }

// One convolution's sizes as the kernels see them. xp: the input zero-padded to (C, HP, WP);
// dp: the masked output gradient dilated by the stride and padded to (K, HD, WD) so that
// dx[c][ih][iw] reads dp[k][ih + R-1-r][iw + S-1-s]. WP and WD include slack for whole blocks.
struct ConvShape {
  int c = 0, k = 0, r = 0, s = 0, oh = 0, ow = 0, h = 0, w = 0;
  int stride_h = 1, stride_w = 1;
  int hp = 0, wp = 0;  // padded input plane
  int hd = 0, wd = 0;  // padded, dilated gradient plane
  int kp = 0, cp = 0;  // K and C padded to kLanes
};

struct Kernels {
  const char* isa;  // "sse2", "avx2", "avx512"
  // y (K, OH, OW) of one image = sum over (c, r, s) of xp * wt, from +0, then + b, then relu.
  // wt (C, R, S, KP); b (K) or null.
  void (*conv_forward)(const ConvShape& g, const float* xp, const float* wt, const float* b,
                       bool relu, float* y);
  // The same results, vectors across an output row (stride 1 only). wr (KR, C, R, S), K padded
  // to kRowChannels with zeros. WP must cover the row rounded up to kLanes plus S - 1.
  void (*conv_forward_rows)(const ConvShape& g, const float* xp, const float* wr, const float* b,
                            bool relu, float* y);
  // dx (C, H, W) of one image = sum over (k, r, s) of dp * w2, from +0. w2 (K, R, S, CP).
  void (*conv_backward_data)(const ConvShape& g, const float* dp, const float* w2, float* dx);
  // The same results, vectors across an input row. w3 (K, CR, R, S), C padded to
  // kRowChannels. WD must cover the row rounded up to kLanes plus S - 1.
  void (*conv_backward_data_rows)(const ConvShape& g, const float* dp, const float* w3, float* dx);
  // One chunk of `count` images: dw (C, R, S, KP) = sum over (image, oh) of the row sums over ow
  // of xp * dyt, each sum from +0; db (KP) the same of dyt. xp (count, C, HP, WP),
  // dyt (count, OH, OW, KP).
  void (*conv_weight_grad)(const ConvShape& g, int count, const float* xp, const float* dyt,
                           float* dw, float* db);
  // y (N, OUT) = sum over i of x * wt, from +0, then + b, then relu. wt (IN, OUTP), b or null.
  void (*dense_forward)(int n, int in, int out, const float* x, const float* wt, const float* b,
                        bool relu, float* y);
  // dx (N, IN) = sum over o of dy * wp, from +0. wp (OUT, INP), dy already masked.
  void (*dense_backward_data)(int n, int in, int out, const float* dy, const float* wp, float* dx);
  // One chunk: dw (OUT, INP) = sum over images of dy * xp, from +0; db (OUT) = sum of dy.
  // xp (count, INP) rows padded with zeros.
  void (*dense_weight_grad)(int count, int in, int out, const float* xp, const float* dy, float* dw,
                            float* db);
};

// The ISA paths built for this architecture (lib/CMakeLists.txt): x86-64 has sse2, avx2 and
// avx512; aarch64 one path, neon (its baseline); any other architecture one, generic. Each path
// is the same source (kernels_impl.h) built for its ISA, and gives the same bits.
#if defined(__x86_64__)
const Kernels& kernels_sse2();
const Kernels& kernels_avx2();
const Kernels& kernels_avx512();
#else
const Kernels& kernels_generic();
#endif

// The kernels for `isa` (this architecture's names above), or for the best ISA this CPU runs
// when `isa` is empty; throws InputError for an unknown name or one this CPU lacks.
const Kernels& select_kernels(const std::string& isa);

}  // namespace repro::portable
