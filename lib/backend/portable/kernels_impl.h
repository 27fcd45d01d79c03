// The portable kernels' source, included once per ISA by kernels_<isa>.cpp with PORTABLE_ISA
// set to that ISA's namespace. Vectors are GCC/Clang vector extensions of 16 floats: the
// compiler lowers one to 1 (AVX-512), 2 (AVX2) or 4 (SSE2) registers, and every lane is an
// independent output, so no sum is ever split across lanes. The files are compiled with
// -ffp-contract=off: `acc += x * w` stays a rounded multiply, then a rounded add, on every path.
// Only the register blocking (how many outputs run side by side) differs between ISAs.
#include <cstring>

#include "backend/portable/kernels.h"

#ifndef PORTABLE_ISA
#error "define PORTABLE_ISA before including kernels_impl.h"
#endif

namespace repro::portable::PORTABLE_ISA {

namespace {

typedef float vec __attribute__((vector_size(kLanes * sizeof(float))));

#if defined(__AVX512F__)
constexpr int kBlock = 8;     // output positions per register tile
constexpr int kTaps = 9;      // kernel taps per weight-gradient tile
constexpr int kChannels = 4;  // channels per row tile (vectors across a row)
#elif defined(__AVX2__)
constexpr int kBlock = 4;
constexpr int kTaps = 3;
constexpr int kChannels = 2;
#else
constexpr int kBlock = 2;
constexpr int kTaps = 3;
constexpr int kChannels = 1;
#endif
static_assert(kChannels <= kRowChannels, "weights are padded for tiles of kRowChannels");
static_assert(kBlock <= 8, "the backend sizes row slack for blocks of at most 8");

inline vec load(const float* p) {
  vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }
inline vec splat(float s) { return vec{s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

inline float finish(float acc, const float* b, int k, bool relu) {
  float v = b ? acc + b[k] : acc;
  return (relu && !(v > 0.0f)) ? 0.0f : v;
}

void conv_forward(const ConvShape& g, const float* xp, const float* wt, const float* b, bool relu,
                  float* y) {
  const size_t plane = size_t(g.hp) * g.wp;
  for (int kb = 0; kb < g.kp; kb += kLanes) {
    for (int oh = 0; oh < g.oh; oh++) {
      for (int ow0 = 0; ow0 < g.ow; ow0 += kBlock) {
        vec acc[kBlock];
        for (int j = 0; j < kBlock; j++) acc[j] = vec{};
        for (int c = 0; c < g.c; c++) {
          for (int r = 0; r < g.r; r++) {
            const float* row = xp + c * plane + size_t(oh * g.stride_h + r) * g.wp +
                               size_t(ow0) * g.stride_w;  // (WP) from the block's first tap
            const float* wr = wt + size_t(c * g.r + r) * g.s * g.kp + kb;  // (S, KP)
            for (int s = 0; s < g.s; s++) {
              vec wv = load(wr + size_t(s) * g.kp);
              for (int j = 0; j < kBlock; j++) acc[j] += splat(row[j * g.stride_w + s]) * wv;
            }
          }
        }
        int jn = g.ow - ow0 < kBlock ? g.ow - ow0 : kBlock;
        int ln = g.k - kb < kLanes ? g.k - kb : kLanes;
        for (int j = 0; j < jn; j++)
          for (int l = 0; l < ln; l++)
            y[(size_t(kb + l) * g.oh + oh) * g.ow + ow0 + j] = finish(acc[j][l], b, kb + l, relu);
      }
    }
  }
}

// The same sums as conv_forward with vectors across 16 positions of an output row (stride 1):
// contiguous loads and stores, for wide rows. wr (KR, C, R, S) with K padded to kRowChannels.
void conv_forward_rows(const ConvShape& g, const float* xp, const float* wr, const float* b,
                       bool relu, float* y) {
  const size_t plane = size_t(g.hp) * g.wp;
  const int taps = g.r * g.s;
  for (int k0 = 0; k0 < g.k; k0 += kChannels) {
    for (int oh = 0; oh < g.oh; oh++) {
      for (int ow0 = 0; ow0 < g.ow; ow0 += kLanes) {
        vec acc[kChannels];
        for (int q = 0; q < kChannels; q++) acc[q] = vec{};
        for (int c = 0; c < g.c; c++) {
          for (int r = 0; r < g.r; r++) {
            const float* row = xp + c * plane + size_t(oh * g.stride_h + r) * g.wp + ow0;
            const float* wq = wr + (size_t(k0) * g.c + c) * taps + size_t(r) * g.s;
            for (int s = 0; s < g.s; s++) {
              vec xv = load(row + s);
              for (int q = 0; q < kChannels; q++)
                acc[q] += xv * splat(wq[size_t(q) * g.c * taps + s]);
            }
          }
        }
        int kn = g.k - k0 < kChannels ? g.k - k0 : kChannels;
        int ln = g.ow - ow0 < kLanes ? g.ow - ow0 : kLanes;
        for (int q = 0; q < kn; q++) {
          float* out = y + (size_t(k0 + q) * g.oh + oh) * g.ow + ow0;
          for (int l = 0; l < ln; l++) out[l] = finish(acc[q][l], b, k0 + q, relu);
        }
      }
    }
  }
}

// The same sums as conv_backward_data with vectors across 16 positions of an input row.
// w3 (K, CR, R, S): the weights with C padded to kRowChannels.
void conv_backward_data_rows(const ConvShape& g, const float* dp, const float* w3, float* dx) {
  const size_t plane = size_t(g.hd) * g.wd;
  const int taps = g.r * g.s;
  const int cr = (g.c + kRowChannels - 1) / kRowChannels * kRowChannels;
  for (int c0 = 0; c0 < g.c; c0 += kChannels) {
    for (int ih = 0; ih < g.h; ih++) {
      for (int iw0 = 0; iw0 < g.w; iw0 += kLanes) {
        vec acc[kChannels];
        for (int q = 0; q < kChannels; q++) acc[q] = vec{};
        for (int k = 0; k < g.k; k++) {
          for (int r = 0; r < g.r; r++) {
            const float* row = dp + k * plane + size_t(ih + g.r - 1 - r) * g.wd + iw0 + g.s - 1;
            const float* wq = w3 + (size_t(k) * cr + c0) * taps + size_t(r) * g.s;
            for (int s = 0; s < g.s; s++) {
              vec dv = load(row - s);
              for (int q = 0; q < kChannels; q++) acc[q] += dv * splat(wq[size_t(q) * taps + s]);
            }
          }
        }
        int cn = g.c - c0 < kChannels ? g.c - c0 : kChannels;
        int ln = g.w - iw0 < kLanes ? g.w - iw0 : kLanes;
        for (int q = 0; q < cn; q++) {
          float* out = dx + (size_t(c0 + q) * g.h + ih) * g.w + iw0;
          for (int l = 0; l < ln; l++) out[l] = acc[q][l];
        }
      }
    }
  }
}

void conv_backward_data(const ConvShape& g, const float* dp, const float* w2, float* dx) {
  const size_t plane = size_t(g.hd) * g.wd;
  for (int cb = 0; cb < g.cp; cb += kLanes) {
    for (int ih = 0; ih < g.h; ih++) {
      for (int iw0 = 0; iw0 < g.w; iw0 += kBlock) {
        vec acc[kBlock];
        for (int j = 0; j < kBlock; j++) acc[j] = vec{};
        for (int k = 0; k < g.k; k++) {
          for (int r = 0; r < g.r; r++) {
            // dp[k][ih + R-1-r][iw + S-1-s], for s = 0 at the right end of the row window.
            const float* row = dp + k * plane + size_t(ih + g.r - 1 - r) * g.wd + iw0 + g.s - 1;
            const float* wr = w2 + size_t(k * g.r + r) * g.s * g.cp + cb;  // (S, CP)
            for (int s = 0; s < g.s; s++) {
              vec wv = load(wr + size_t(s) * g.cp);
              for (int j = 0; j < kBlock; j++) acc[j] += splat(row[j - s]) * wv;
            }
          }
        }
        int jn = g.w - iw0 < kBlock ? g.w - iw0 : kBlock;
        int ln = g.c - cb < kLanes ? g.c - cb : kLanes;
        for (int j = 0; j < jn; j++)
          for (int l = 0; l < ln; l++) dx[(size_t(cb + l) * g.h + ih) * g.w + iw0 + j] = acc[j][l];
      }
    }
  }
}

void conv_weight_grad(const ConvShape& g, int count, const float* xp, const float* dyt, float* dw,
                      float* db) {
  const size_t plane = size_t(g.hp) * g.wp;
  const int taps = g.r * g.s;
  for (int c = 0; c < g.c; c++) {
    for (int t0 = 0; t0 < taps; t0 += kTaps) {
      // Offsets of this tile's taps in the padded plane; taps past the last repeat tap 0 and
      // their sums are dropped, so every tile runs the same fixed-size inner loop.
      size_t offset[kTaps];
      for (int t = 0; t < kTaps; t++) {
        int tap = t0 + t < taps ? t0 + t : 0;
        offset[t] = size_t(tap / g.s) * g.wp + tap % g.s;
      }
      for (int kb = 0; kb < g.kp; kb += kLanes) {
        vec acc[kTaps];
        for (int t = 0; t < kTaps; t++) acc[t] = vec{};
        for (int n = 0; n < count; n++) {
          const float* xc = xp + (size_t(n) * g.c + c) * plane;  // (HP, WP)
          const float* dn = dyt + size_t(n) * g.oh * g.ow * g.kp + kb;
          for (int oh = 0; oh < g.oh; oh++) {
            // A row's sum first, then into the chunk's: the error grows with OW + rows, not
            // with every position of the chunk.
            vec row[kTaps];
            for (int t = 0; t < kTaps; t++) row[t] = vec{};
            for (int ow = 0; ow < g.ow; ow++) {
              vec dv = load(dn + (size_t(oh) * g.ow + ow) * g.kp);
              const float* base = xc + size_t(oh * g.stride_h) * g.wp + size_t(ow) * g.stride_w;
              for (int t = 0; t < kTaps; t++) row[t] += splat(base[offset[t]]) * dv;
            }
            for (int t = 0; t < kTaps; t++) acc[t] += row[t];
          }
        }
        for (int t = 0; t < kTaps && t0 + t < taps; t++)
          store(dw + (size_t(c) * taps + t0 + t) * g.kp + kb, acc[t]);
      }
    }
  }
  for (int kb = 0; kb < g.kp; kb += kLanes) {
    vec acc = vec{};
    for (size_t line = 0; line < size_t(count) * g.oh; line++) {
      vec row = vec{};
      for (int ow = 0; ow < g.ow; ow++) row += load(dyt + (line * g.ow + ow) * g.kp + kb);
      acc += row;
    }
    store(db + kb, acc);
  }
}

void dense_forward(int n, int in, int out, const float* x, const float* wt, const float* b,
                   bool relu, float* y) {
  const int outp = padded(out);
  for (int q = 0; q < n; q++) {
    for (int ob = 0; ob < outp; ob += kLanes) {
      vec acc = vec{};
      for (int i = 0; i < in; i++)
        acc += splat(x[size_t(q) * in + i]) * load(wt + size_t(i) * outp + ob);
      int ln = out - ob < kLanes ? out - ob : kLanes;
      for (int l = 0; l < ln; l++) y[size_t(q) * out + ob + l] = finish(acc[l], b, ob + l, relu);
    }
  }
}

void dense_backward_data(int n, int in, int out, const float* dy, const float* wp, float* dx) {
  const int inp = padded(in);
  for (int q = 0; q < n; q++) {
    for (int ib = 0; ib < inp; ib += kLanes) {
      vec acc = vec{};
      for (int o = 0; o < out; o++)
        acc += splat(dy[size_t(q) * out + o]) * load(wp + size_t(o) * inp + ib);
      int ln = in - ib < kLanes ? in - ib : kLanes;
      for (int l = 0; l < ln; l++) dx[size_t(q) * in + ib + l] = acc[l];
    }
  }
}

void dense_weight_grad(int count, int in, int out, const float* xp, const float* dy, float* dw,
                       float* db) {
  const int inp = padded(in);
  for (int o = 0; o < out; o++) {
    for (int ib = 0; ib < inp; ib += kLanes) {
      vec acc = vec{};
      for (int q = 0; q < count; q++)
        acc += splat(dy[size_t(q) * out + o]) * load(xp + size_t(q) * inp + ib);
      store(dw + size_t(o) * inp + ib, acc);
    }
    float sum = 0.0f;
    for (int q = 0; q < count; q++) sum += dy[size_t(q) * out + o];
    db[o] = sum;
  }
}

}  // namespace

#define PORTABLE_STR2(x) #x
#define PORTABLE_STR(x) PORTABLE_STR2(x)
#ifndef PORTABLE_ISA_NAME  // the path's name, when it is not the namespace's (neon)
#define PORTABLE_ISA_NAME PORTABLE_STR(PORTABLE_ISA)
#endif

const Kernels& kernels() {
  static const Kernels table{
      PORTABLE_ISA_NAME,       conv_forward,     conv_forward_rows, conv_backward_data,
      conv_backward_data_rows, conv_weight_grad, dense_forward,     dense_backward_data,
      dense_weight_grad};
  return table;
}

}  // namespace repro::portable::PORTABLE_ISA
