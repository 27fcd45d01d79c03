// Reference recurrent layers (backend.h, RecurrentGeometry): Keras 3's LSTM, GRU and SimpleRNN
// cells.
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
#include "core/wider_isas.h"

namespace repro::reference {

namespace {

// y[0..m) += a * row[0..m): a product, then a sum, per element (this file is built without
// contraction into FMA). The vector width changes nothing in the result, so the clones for wider
// ISAs give the baseline's bits.
REPRO_WIDER_ISAS void add_scaled(float* y, float a, const float* row, int m) {
  for (int j = 0; j < m; j++) y[j] += a * row[j];
}

// y[0..m) += sum over k of x[k] * w[k * ld + 0..m), k in order (each y[j] its own float sum).
void add_row_times(const float* x, const float* w, int k, int m, int ld, float* y) {
  for (int kk = 0; kk < k; kk++) add_scaled(y, x[kk], w + size_t(kk) * ld, m);
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
  const int nb = b1 - b0;
  const bool gru = g.cell == RnnCell::gru;
  // The images [b0, b1) step together, so each row of the recurrent kernel is read once per step
  // for all of them; every sum still runs over its own terms in the same order.
  std::vector<float> z(size_t(nb) * width), rz(size_t(nb) * width);
  std::vector<float> xin(static_cast<size_t>(g.f)), hin(size_t(nb) * u);
  std::vector<float> h(size_t(nb) * u, 0.0f), c(size_t(nb) * u, 0.0f);
  std::vector<float> zr(static_cast<size_t>(2 * u)), rh(static_cast<size_t>(u)),
      q(static_cast<size_t>(u));
  // The input bias of unit j of the (G * U) outputs, and GRU's recurrent bias.
  const auto input_bias = [&](int j) { return g.two_biases() ? bias[2 * j] : bias[j]; };
  for (int s = 0; s < g.t; s++) {
    // z = (x * mask_g) K_g + b_g, image by image.
    for (int i = 0; i < nb; i++) {
      const int b = b0 + i;
      const float* xt = x + (size_t(b) * g.t + time_of(g, s)) * g.f;
      for (int gate = 0; gate < gates; gate++) {
        float* zg = z.data() + size_t(i) * width + size_t(gate) * u;
        masked(xt, mask_of(input_masks, g.input_masks, gate, b, g.n, g.f), g.f, xin.data());
        std::fill(zg, zg + u, 0.0f);
        add_row_times(xin.data(), kernel_t + size_t(gate) * u, g.f, u, width, zg);
        if (g.bias)
          for (int j = 0; j < u; j++) zg[j] += input_bias(gate * u + j);
      }
    }
    // rz = (h * mask_g) U_g (+ GRU's recurrent bias), gate by gate, the images side by side. GRU
    // without reset_after multiplies h by r before U_h (below).
    for (int gate = 0; gate < gates; gate++) {
      if (gru && !g.reset_after && gate == 2) continue;
      for (int i = 0; i < nb; i++)
        masked(h.data() + size_t(i) * u,
               mask_of(recurrent_masks, g.recurrent_masks, gate, b0 + i, g.n, u), u,
               hin.data() + size_t(i) * u);
      for (int i = 0; i < nb; i++) {
        float* rg = rz.data() + size_t(i) * width + size_t(gate) * u;
        std::fill(rg, rg + u, 0.0f);
      }
      for (int k = 0; k < u; k++) {
        const float* row = recurrent_t + size_t(k) * width + size_t(gate) * u;
        for (int i = 0; i < nb; i++)
          add_scaled(rz.data() + size_t(i) * width + size_t(gate) * u, hin[size_t(i) * u + k], row,
                     u);
      }
      if (g.two_biases())
        for (int i = 0; i < nb; i++)
          for (int j = 0; j < u; j++)
            rz[size_t(i) * width + size_t(gate) * u + j] += bias[2 * (gate * u + j) + 1];
    }
    for (int i = 0; i < nb; i++) {
      const int b = b0 + i;
      const float* zi = z.data() + size_t(i) * width;
      const float* ri = rz.data() + size_t(i) * width;
      float* hi = h.data() + size_t(i) * u;
      float* ci = c.data() + size_t(i) * u;
      float* keep = saved ? saved + (size_t(b) * g.t + s) * per : nullptr;
      if (g.cell == RnnCell::lstm) {
        for (int j = 0; j < u; j++) {
          const int i0 = j, f0 = u + j, c0 = 2 * u + j, o0 = 3 * u + j;
          const float ig = activate(g.recurrent_activation, zi[i0] + ri[i0]);
          const float f = activate(g.recurrent_activation, zi[f0] + ri[f0]);
          const float cc = activate(g.activation, zi[c0] + ri[c0]);
          const float o = activate(g.recurrent_activation, zi[o0] + ri[o0]);
          ci[j] = f * ci[j] + ig * cc;
          hi[j] = o * activate(g.activation, ci[j]);
          if (keep) {
            keep[j] = ig, keep[u + j] = f, keep[2 * u + j] = cc, keep[3 * u + j] = o;
            keep[4 * u + j] = ci[j], keep[5 * u + j] = hi[j];
          }
        }
      } else if (gru) {
        const float* hmask = mask_of(recurrent_masks, g.recurrent_masks, 2, b, g.n, u);
        for (int j = 0; j < 2 * u; j++)
          zr[size_t(j)] = activate(g.recurrent_activation, zi[j] + ri[j]);
        if (g.reset_after) {
          for (int j = 0; j < u; j++) q[size_t(j)] = ri[2 * u + j];
        } else {  // (r * (h * mask)) U_h
          for (int k = 0; k < u; k++)
            rh[size_t(k)] = zr[size_t(u + k)] * (hmask ? hi[k] * hmask[k] : hi[k]);
          std::fill(q.begin(), q.end(), 0.0f);
          add_row_times(rh.data(), recurrent_t + size_t(2) * u, u, u, width, q.data());
        }
        for (int j = 0; j < u; j++) {
          const float zj = zr[size_t(j)], rj = zr[size_t(u + j)];
          const float rec = g.reset_after ? rj * q[size_t(j)] : q[size_t(j)];
          const float hh = activate(g.activation, zi[2 * u + j] + rec);
          const float h_prev = hi[j];
          hi[j] = zj * h_prev + (1.0f - zj) * hh;
          if (keep) {
            keep[j] = zj, keep[u + j] = rj, keep[2 * u + j] = hh, keep[3 * u + j] = hi[j];
            keep[4 * u + j] = q[size_t(j)];
          }
        }
      } else {
        for (int j = 0; j < u; j++) {
          hi[j] = activate(g.activation, zi[j] + ri[j]);
          if (keep) keep[j] = hi[j];
        }
      }
      if (g.return_sequences)
        std::memcpy(y + (size_t(b) * g.t + s) * u, hi, sizeof(float) * size_t(u));
      else if (s == g.t - 1)
        std::memcpy(y + size_t(b) * u, hi, sizeof(float) * size_t(u));
    }
  }
}

namespace {

// Where a step keeps h: LSTM after its gates and c, GRU after z, r and the candidate.
int h_offset(const RecurrentGeometry& g) {
  return g.cell == RnnCell::lstm ? 5 * g.u : g.cell == RnnCell::gru ? 3 * g.u : 0;
}

}  // namespace

void recurrent_backward_images(const RecurrentGeometry& g, const float* kernel,
                               const float* recurrent, const float* input_masks,
                               const float* recurrent_masks, const float* saved, const float* dy,
                               float* dz, float* dx, int b0, int b1) {
  const int u = g.u, gates = g.gates(), width = gates * u, per = g.saved_per_step();
  const int h_at = h_offset(g);
  std::vector<float> dh(static_cast<size_t>(u)), dh_next(static_cast<size_t>(u));
  std::vector<float> dc_next(static_cast<size_t>(u)), part(static_cast<size_t>(u));
  std::vector<float> dxin(static_cast<size_t>(g.f)), zero(static_cast<size_t>(u), 0.0f);
  std::vector<float> da(static_cast<size_t>(u)), dr(static_cast<size_t>(u));  // GRU's
  for (int b = b0; b < b1; b++) {
    std::fill(dh_next.begin(), dh_next.end(), 0.0f);
    std::fill(dc_next.begin(), dc_next.end(), 0.0f);
    if (dx) std::fill(dx + size_t(b) * g.t * g.f, dx + size_t(b + 1) * g.t * g.f, 0.0f);
    for (int s = g.t - 1; s >= 0; s--) {
      const float* keep = saved + (size_t(b) * g.t + s) * per;
      const float* prev = s > 0 ? keep - per : nullptr;
      const float* h_prev = prev ? prev + h_at : zero.data();
      const float* out_grad = g.return_sequences ? dy + (size_t(b) * g.t + s) * u
                              : s == g.t - 1     ? dy + size_t(b) * u
                                                 : nullptr;
      for (int j = 0; j < u; j++)
        dh[size_t(j)] = out_grad ? out_grad[j] + dh_next[size_t(j)] : dh_next[size_t(j)];
      // dzx: the gates' pre-activation gradients on the input side (kernel, input bias); dzr on
      // the recurrent side (recurrent kernel, GRU's recurrent bias). They differ for GRU's h.
      float* dzx = dz + (size_t(b) * g.t + s) * 2 * width;
      float* dzr = dzx + width;
      std::fill(dh_next.begin(), dh_next.end(), 0.0f);
      if (g.cell == RnnCell::lstm) {
        for (int j = 0; j < u; j++) {
          const float i = keep[j], f = keep[u + j], cc = keep[2 * u + j], o = keep[3 * u + j];
          const float tc = activate(g.activation, keep[4 * u + j]);
          const float c_prev = prev ? prev[4 * u + j] : 0.0f;
          const float d_o = dh[size_t(j)] * tc;
          const float dc = dh[size_t(j)] * o * derivative(g.activation, tc) + dc_next[size_t(j)];
          dc_next[size_t(j)] = dc * f;
          dzx[j] = dc * cc * derivative(g.recurrent_activation, i);
          dzx[u + j] = dc * c_prev * derivative(g.recurrent_activation, f);
          dzx[2 * u + j] = dc * i * derivative(g.activation, cc);
          dzx[3 * u + j] = d_o * derivative(g.recurrent_activation, o);
        }
        std::copy(dzx, dzx + width, dzr);
      } else if (g.cell == RnnCell::gru) {
        const float* hmask = mask_of(recurrent_masks, g.recurrent_masks, 2, b, g.n, u);
        for (int j = 0; j < u; j++) {
          const float zj = keep[j], hh = keep[2 * u + j];
          const float d = dh[size_t(j)];
          da[size_t(j)] = d * (1.0f - zj) * derivative(g.activation, hh);
          dzx[j] = d * (h_prev[j] - hh) * derivative(g.recurrent_activation, zj);
          dh_next[size_t(j)] = d * zj;  // h = z * h_prev + ...
          dzx[2 * u + j] = da[size_t(j)];
        }
        if (g.reset_after) {  // rec = r * q: dr = da * q, dq = da * r
          for (int j = 0; j < u; j++) {
            dr[size_t(j)] = da[size_t(j)] * keep[4 * u + j];
            dzr[2 * u + j] = da[size_t(j)] * keep[u + j];
          }
        } else {  // rec = (r * hm) U_h: t = da U_h^T; dr = t * hm
          std::fill(part.begin(), part.end(), 0.0f);
          add_row_times(da.data(), recurrent + size_t(2) * u * u, u, u, u, part.data());
          for (int k = 0; k < u; k++) {
            const float hm = hmask ? h_prev[k] * hmask[k] : h_prev[k];
            dr[size_t(k)] = part[size_t(k)] * hm;
          }
          for (int j = 0; j < u; j++) dzr[2 * u + j] = da[size_t(j)];
        }
        for (int j = 0; j < u; j++) {
          dzx[u + j] = dr[size_t(j)] * derivative(g.recurrent_activation, keep[u + j]);
          dzr[j] = dzx[j];
          dzr[u + j] = dzx[u + j];
        }
      } else {
        for (int j = 0; j < u; j++) dzx[j] = dh[size_t(j)] * derivative(g.activation, keep[j]);
        std::copy(dzx, dzx + width, dzr);
      }
      // dh of the previous step: sum over gates, in order, of (dzr_g U_g^T) * mask_g; GRU's
      // candidate without reset_after goes through r as well.
      for (int gate = 0; gate < gates; gate++) {
        std::fill(part.begin(), part.end(), 0.0f);
        add_row_times(dzr + size_t(gate) * u, recurrent + size_t(gate) * u * u, u, u, u,
                      part.data());
        const float* mask = mask_of(recurrent_masks, g.recurrent_masks, gate, b, g.n, u);
        const bool through_r = g.cell == RnnCell::gru && !g.reset_after && gate == 2;
        for (int k = 0; k < u; k++) {
          float v = through_r ? part[size_t(k)] * keep[u + k] : part[size_t(k)];
          dh_next[size_t(k)] += mask ? v * mask[k] : v;
        }
      }
      if (!dx) continue;
      float* dxt = dx + (size_t(b) * g.t + time_of(g, s)) * g.f;
      for (int gate = 0; gate < gates; gate++) {
        std::fill(dxin.begin(), dxin.end(), 0.0f);
        add_row_times(dzx + size_t(gate) * u, kernel + size_t(gate) * u * g.f, u, g.f, g.f,
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
  const int chunks = chunk_count(g.n), rows = j1 - j0;
  const int biases = g.two_biases() ? 2 : 1;
  const size_t k_size = size_t(width) * g.f, r_size = size_t(width) * u,
               b_size = size_t(width) * biases;
  const int h_at = h_offset(g);
  // Per chunk, rows [j0, j1) of each gradient, summed over the chunk's images, then steps, in
  // order; every (image, step) reads its input and state once for all the rows.
  std::vector<float> kacc(size_t(rows) * g.f), racc(size_t(rows) * u), bacc(size_t(rows) * 2);
  std::vector<float> ktotal(size_t(rows) * g.f), rtotal(size_t(rows) * u), btotal(size_t(rows) * 2);
  std::vector<float> xin(static_cast<size_t>(g.f)), rin(static_cast<size_t>(u));
  for (int q = 0; q < chunks; q++) {
    std::fill(kacc.begin(), kacc.end(), 0.0f);
    std::fill(racc.begin(), racc.end(), 0.0f);
    std::fill(bacc.begin(), bacc.end(), 0.0f);
    for (int b = q * kChunk; b < (q + 1) * kChunk && b < g.n; b++) {
      for (int s = 0; s < g.t; s++) {
        const float* dzx = dz + (size_t(b) * g.t + s) * 2 * width;
        const float* xt = x + (size_t(b) * g.t + time_of(g, s)) * g.f;
        const float* keep = saved + (size_t(b) * g.t + s) * per;
        const float* h = s > 0 ? keep - per + h_at : nullptr;
        for (int gate = j0 / u; gate * u < j1; gate++) {
          const int r0 = std::max(j0, gate * u), r1 = std::min(j1, (gate + 1) * u);
          masked(xt, mask_of(input_masks, g.input_masks, gate, b, g.n, g.f), g.f, xin.data());
          // GRU's candidate without reset_after: U_h multiplies r * (h * mask).
          const bool through_r = g.cell == RnnCell::gru && !g.reset_after && gate == 2;
          if (h) {
            masked(h, mask_of(recurrent_masks, g.recurrent_masks, gate, b, g.n, u), u, rin.data());
            if (through_r)
              for (int k = 0; k < u; k++) rin[size_t(k)] = keep[u + k] * rin[size_t(k)];
          }
          for (int row = r0; row < r1; row++) {
            const size_t i = size_t(row - j0);
            const float dxv = dzx[row], drv = dzx[width + row];
            add_scaled(kacc.data() + i * g.f, dxv, xin.data(), g.f);
            if (h) add_scaled(racc.data() + i * u, drv, rin.data(), u);
            bacc[2 * i] += dxv;
            bacc[2 * i + 1] += drv;
          }
        }
      }
    }
    if (g.chunk_grads) {
      std::copy(kacc.begin(), kacc.end(), dkernel + q * k_size + size_t(j0) * g.f);
      std::copy(racc.begin(), racc.end(), drecurrent + q * r_size + size_t(j0) * u);
      if (dbias)
        for (int i = 0; i < rows; i++)
          for (int k = 0; k < biases; k++)
            dbias[q * b_size + size_t(j0 + i) * biases + k] = bacc[size_t(2 * i + k)];
      continue;
    }
    // Fold the chunks in order: total = c0; total += c1; ...
    const auto fold = [q](std::vector<float>& total, const std::vector<float>& chunk) {
      for (size_t k = 0; k < total.size(); k++) total[k] = q == 0 ? chunk[k] : total[k] + chunk[k];
    };
    fold(ktotal, kacc);
    fold(rtotal, racc);
    fold(btotal, bacc);
  }
  if (g.chunk_grads) return;
  std::copy(ktotal.begin(), ktotal.end(), dkernel + size_t(j0) * g.f);
  std::copy(rtotal.begin(), rtotal.end(), drecurrent + size_t(j0) * u);
  if (dbias)
    for (int i = 0; i < rows; i++)
      for (int k = 0; k < biases; k++)
        dbias[size_t(j0 + i) * biases + k] = btotal[size_t(2 * i + k)];
}

}  // namespace repro::reference
