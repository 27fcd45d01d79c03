// Reference recurrent layers (backend.h, RecurrentGeometry): Keras 3's LSTM and SimpleRNN cells.
// Every image's sequence runs alone, so the forward and the input gradients split over images
// freely; products are float sums in one fixed order (vectorized across outputs, never across a
// sum), and exp and tanh are portable's own, so the bits depend on neither the thread count nor
// the ISA path. Weight gradients sum per 8-image chunk (images, then steps, in order), then fold
// the chunks in chunk order in float: the rule ranks reproduce.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/portable/portable_math.h"
#include "backend/reference/reference_ops.h"
#include "core/chunk.h"

namespace repro::reference {

namespace {

// y[0..m) += sum over k of x[k] * w[k * ld + 0..m), k in order (each y[j] its own float sum).
void add_row_times(const float* x, const float* w, int k, int m, int ld, float* y) {
  for (int kk = 0; kk < k; kk++) {
    const float xv = x[kk];
    const float* row = w + size_t(kk) * ld;
    for (int j = 0; j < m; j++) y[j] += xv * row[j];
  }
}

float activate(RnnActivation a, float x) {
  switch (a) {
    case RnnActivation::tanh: return portable::tanh_f32(x);
    case RnnActivation::sigmoid: return portable::sigmoid_f32(x);
    case RnnActivation::relu: return x > 0.0f ? x : 0.0f;
    case RnnActivation::hard_sigmoid: {  // relu6(x + 3) / 6, Keras 3
      const float r = std::min(std::max(x + 3.0f, 0.0f), 6.0f);
      return r / 6.0f;
    }
    case RnnActivation::linear: break;
  }
  return x;
}

// The derivative at the input whose activation is y.
float derivative(RnnActivation a, float y) {
  switch (a) {
    case RnnActivation::tanh: return 1.0f - y * y;
    case RnnActivation::sigmoid: return y * (1.0f - y);
    case RnnActivation::relu: return y > 0.0f ? 1.0f : 0.0f;
    case RnnActivation::hard_sigmoid: return y > 0.0f && y < 1.0f ? 1.0f / 6.0f : 0.0f;
    case RnnActivation::linear: break;
  }
  return 1.0f;
}

// The timestep that step s reads.
int time_of(const RecurrentGeometry& g, int s) { return g.go_backwards ? g.t - 1 - s : s; }

// Gate `gate`'s mask for image b among `count` masks of `width` (null: none).
const float* mask_of(const float* masks, int count, int gate, int b, int n, int width) {
  if (!masks || count == 0) return nullptr;
  return masks + (size_t(count == 1 ? 0 : gate) * n + b) * width;
}

// out = v, or v * mask.
void masked(const float* v, const float* mask, int width, float* out) {
  for (int k = 0; k < width; k++) out[k] = mask ? v[k] * mask[k] : v[k];
}

}  // namespace

void recurrent_forward_images(const RecurrentGeometry& g, const float* x, const float* kernel_t,
                              const float* recurrent_t, const float* bias, const float* input_masks,
                              const float* recurrent_masks, float* y, float* saved, int b0,
                              int b1) {
  const int u = g.u, gates = g.gates(), width = gates * u, per = g.saved_per_step();
  std::vector<float> z(static_cast<size_t>(width)), hz(static_cast<size_t>(u));
  std::vector<float> xin(static_cast<size_t>(g.f)), hin(static_cast<size_t>(u));
  std::vector<float> h(static_cast<size_t>(u)), c(static_cast<size_t>(u));
  for (int b = b0; b < b1; b++) {
    std::fill(h.begin(), h.end(), 0.0f);
    std::fill(c.begin(), c.end(), 0.0f);
    for (int s = 0; s < g.t; s++) {
      const float* xt = x + (size_t(b) * g.t + time_of(g, s)) * g.f;
      for (int gate = 0; gate < gates; gate++) {
        float* zg = z.data() + size_t(gate) * u;
        // (x * mask) K_g + b_g, then + (h * mask) U_g: Keras's order of the two products.
        masked(xt, mask_of(input_masks, g.input_masks, gate, b, g.n, g.f), g.f, xin.data());
        std::fill(zg, zg + u, 0.0f);
        add_row_times(xin.data(), kernel_t + size_t(gate) * u, g.f, u, width, zg);
        if (g.bias)
          for (int j = 0; j < u; j++) zg[j] += bias[gate * u + j];
        masked(h.data(), mask_of(recurrent_masks, g.recurrent_masks, gate, b, g.n, u), u,
               hin.data());
        std::fill(hz.begin(), hz.end(), 0.0f);
        add_row_times(hin.data(), recurrent_t + size_t(gate) * u, u, u, width, hz.data());
        for (int j = 0; j < u; j++) zg[j] += hz[size_t(j)];
      }
      float* keep = saved ? saved + (size_t(b) * g.t + s) * per : nullptr;
      if (g.cell == RnnCell::lstm) {
        for (int j = 0; j < u; j++) {
          const float i = activate(g.recurrent_activation, z[size_t(j)]);
          const float f = activate(g.recurrent_activation, z[size_t(u + j)]);
          const float cc = activate(g.activation, z[size_t(2 * u + j)]);
          const float o = activate(g.recurrent_activation, z[size_t(3 * u + j)]);
          c[size_t(j)] = f * c[size_t(j)] + i * cc;
          h[size_t(j)] = o * activate(g.activation, c[size_t(j)]);
          if (keep) {
            keep[j] = i, keep[u + j] = f, keep[2 * u + j] = cc, keep[3 * u + j] = o;
            keep[4 * u + j] = c[size_t(j)], keep[5 * u + j] = h[size_t(j)];
          }
        }
      } else {
        for (int j = 0; j < u; j++) {
          h[size_t(j)] = activate(g.activation, z[size_t(j)]);
          if (keep) keep[j] = h[size_t(j)];
        }
      }
      if (g.return_sequences)
        std::memcpy(y + (size_t(b) * g.t + s) * u, h.data(), sizeof(float) * size_t(u));
    }
    if (!g.return_sequences) std::memcpy(y + size_t(b) * u, h.data(), sizeof(float) * size_t(u));
  }
}

void recurrent_backward_images(const RecurrentGeometry& g, const float* kernel,
                               const float* recurrent, const float* input_masks,
                               const float* recurrent_masks, const float* saved, const float* dy,
                               float* dz, float* dx, int b0, int b1) {
  const int u = g.u, gates = g.gates(), width = gates * u, per = g.saved_per_step();
  std::vector<float> dh(static_cast<size_t>(u)), dh_next(static_cast<size_t>(u));
  std::vector<float> dc_next(static_cast<size_t>(u)), part(static_cast<size_t>(u));
  std::vector<float> dxin(static_cast<size_t>(g.f));
  for (int b = b0; b < b1; b++) {
    std::fill(dh_next.begin(), dh_next.end(), 0.0f);
    std::fill(dc_next.begin(), dc_next.end(), 0.0f);
    if (dx) std::fill(dx + size_t(b) * g.t * g.f, dx + size_t(b + 1) * g.t * g.f, 0.0f);
    for (int s = g.t - 1; s >= 0; s--) {
      const float* keep = saved + (size_t(b) * g.t + s) * per;
      const float* out_grad = g.return_sequences ? dy + (size_t(b) * g.t + s) * u
                              : s == g.t - 1     ? dy + size_t(b) * u
                                                 : nullptr;
      for (int j = 0; j < u; j++)
        dh[size_t(j)] = out_grad ? out_grad[j] + dh_next[size_t(j)] : dh_next[size_t(j)];
      float* dzs = dz + (size_t(b) * g.t + s) * width;
      if (g.cell == RnnCell::lstm) {
        const float* prev = s > 0 ? keep - per : nullptr;
        for (int j = 0; j < u; j++) {
          const float i = keep[j], f = keep[u + j], cc = keep[2 * u + j], o = keep[3 * u + j];
          const float tc = activate(g.activation, keep[4 * u + j]);
          const float c_prev = prev ? prev[4 * u + j] : 0.0f;
          const float d_o = dh[size_t(j)] * tc;
          const float dc = dh[size_t(j)] * o * derivative(g.activation, tc) + dc_next[size_t(j)];
          dc_next[size_t(j)] = dc * f;
          dzs[j] = dc * cc * derivative(g.recurrent_activation, i);
          dzs[u + j] = dc * c_prev * derivative(g.recurrent_activation, f);
          dzs[2 * u + j] = dc * i * derivative(g.activation, cc);
          dzs[3 * u + j] = d_o * derivative(g.recurrent_activation, o);
        }
      } else {
        for (int j = 0; j < u; j++) dzs[j] = dh[size_t(j)] * derivative(g.activation, keep[j]);
      }
      // dh of the previous step: sum over gates, in order, of (dz_g U_g^T) * mask_g.
      std::fill(dh_next.begin(), dh_next.end(), 0.0f);
      for (int gate = 0; gate < gates; gate++) {
        std::fill(part.begin(), part.end(), 0.0f);
        add_row_times(dzs + size_t(gate) * u, recurrent + size_t(gate) * u * u, u, u, u,
                      part.data());
        const float* mask = mask_of(recurrent_masks, g.recurrent_masks, gate, b, g.n, u);
        for (int k = 0; k < u; k++)
          dh_next[size_t(k)] += mask ? part[size_t(k)] * mask[k] : part[size_t(k)];
      }
      if (!dx) continue;
      float* dxt = dx + (size_t(b) * g.t + time_of(g, s)) * g.f;
      for (int gate = 0; gate < gates; gate++) {
        std::fill(dxin.begin(), dxin.end(), 0.0f);
        add_row_times(dzs + size_t(gate) * u, kernel + size_t(gate) * u * g.f, u, g.f, g.f,
                      dxin.data());
        const float* mask = mask_of(input_masks, g.input_masks, gate, b, g.n, g.f);
        for (int k = 0; k < g.f; k++) dxt[k] += mask ? dxin[size_t(k)] * mask[k] : dxin[size_t(k)];
      }
    }
  }
}

void recurrent_weight_grads(const RecurrentGeometry& g, const float* x, const float* input_masks,
                            const float* recurrent_masks, const float* saved, const float* dz,
                            float* dkernel, float* drecurrent, float* dbias, int j0, int j1) {
  const int u = g.u, width = g.gates() * u, per = g.saved_per_step();
  const int chunks = chunk_count(g.n);
  const size_t k_size = size_t(width) * g.f, r_size = size_t(width) * u;
  // h of step s - 1 (zero before the first): LSTM keeps h after its gates, SimpleRNN first.
  const int h_at = g.cell == RnnCell::lstm ? 5 * u : 0;
  std::vector<float> kacc(static_cast<size_t>(g.f)), racc(static_cast<size_t>(u));
  std::vector<float> ktotal(static_cast<size_t>(g.f)), rtotal(static_cast<size_t>(u));
  for (int row = j0; row < j1; row++) {
    const int gate = row / u;
    float btotal = 0.0f;
    for (int q = 0; q < chunks; q++) {
      std::fill(kacc.begin(), kacc.end(), 0.0f);
      std::fill(racc.begin(), racc.end(), 0.0f);
      float bacc = 0.0f;
      for (int b = q * kChunk; b < (q + 1) * kChunk && b < g.n; b++) {
        const float* imask = mask_of(input_masks, g.input_masks, gate, b, g.n, g.f);
        const float* rmask = mask_of(recurrent_masks, g.recurrent_masks, gate, b, g.n, u);
        for (int s = 0; s < g.t; s++) {
          const float d = dz[(size_t(b) * g.t + s) * width + row];
          const float* xt = x + (size_t(b) * g.t + time_of(g, s)) * g.f;
          for (int k = 0; k < g.f; k++) kacc[size_t(k)] += d * (imask ? xt[k] * imask[k] : xt[k]);
          if (s > 0) {
            const float* h = saved + (size_t(b) * g.t + s - 1) * per + h_at;
            for (int k = 0; k < u; k++) racc[size_t(k)] += d * (rmask ? h[k] * rmask[k] : h[k]);
          }
          bacc += d;
        }
      }
      if (g.chunk_grads) {
        std::copy(kacc.begin(), kacc.end(), dkernel + q * k_size + size_t(row) * g.f);
        std::copy(racc.begin(), racc.end(), drecurrent + q * r_size + size_t(row) * u);
        if (dbias) dbias[size_t(q) * width + row] = bacc;
        continue;
      }
      for (int k = 0; k < g.f; k++)
        ktotal[size_t(k)] = q == 0 ? kacc[size_t(k)] : ktotal[size_t(k)] + kacc[size_t(k)];
      for (int k = 0; k < u; k++)
        rtotal[size_t(k)] = q == 0 ? racc[size_t(k)] : rtotal[size_t(k)] + racc[size_t(k)];
      btotal = q == 0 ? bacc : btotal + bacc;
    }
    if (g.chunk_grads) continue;
    std::copy(ktotal.begin(), ktotal.end(), dkernel + size_t(row) * g.f);
    std::copy(rtotal.begin(), rtotal.end(), drecurrent + size_t(row) * u);
    if (dbias) dbias[row] = btotal;
  }
}

}  // namespace repro::reference
