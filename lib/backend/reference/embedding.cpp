// Reference embedding (backend.h): the forward copies each id's column of the (F, V) table; the
// table's gradient adds each dy row into its id's column, per chunk of kChunk images (images, then
// positions, in order), and folds the chunk sums in chunk order: the rule a split of the chunks
// over threads or ranks reproduces.
#include <algorithm>
#include <vector>

#include "backend/reference/reference_ops.h"
#include "core/chunk.h"

namespace repro::reference {

void embedding_forward(const EmbeddingGeometry& g, const int32_t* ids, const float* table, float* y,
                       int b0, int b1) {
  const size_t v = size_t(g.v);
  for (int b = b0; b < b1; b++) {
    for (int s = 0; s < g.t; s++) {
      const size_t at = size_t(b) * g.t + s;
      const size_t id = size_t(ids[at]);
      float* row = y + at * g.f;
      for (int f = 0; f < g.f; f++) row[f] = table[size_t(f) * v + id];
    }
  }
}

void embedding_table_grad(const EmbeddingGeometry& g, const int32_t* ids, const float* dy,
                          float* dtable, int f0, int f1) {
  const size_t v = size_t(g.v), plane = size_t(g.f) * v, width = size_t(f1 - f0);
  const int chunks = chunk_count(g.n);
  // The rows of features [f0, f1) of one (F, V) table.
  const auto clear = [&](float* table) {
    for (int f = f0; f < f1; f++) std::fill(table + size_t(f) * v, table + size_t(f + 1) * v, 0.0f);
  };
  // Adds image b's dy rows, position by position, into `table` (or its acc layout).
  if (g.chunk_grads) {
    for (int q = 0; q < chunks; q++) {
      float* table = dtable + size_t(q) * plane;
      clear(table);
      for (int b = q * kChunk; b < (q + 1) * kChunk && b < g.n; b++)
        for (int s = 0; s < g.t; s++) {
          const size_t at = size_t(b) * g.t + s, id = size_t(ids[at]);
          for (int f = f0; f < f1; f++) table[size_t(f) * v + id] += dy[at * g.f + f];
        }
    }
    return;
  }
  // Each chunk sums into acc (id-major, the block's features contiguous) over the ids it touches;
  // those columns are then added into the total and acc cleared. A column a chunk does not touch
  // would add +0.0f, which leaves the total's bits as they are (a sum that starts at +0.0f is
  // never -0.0f), so this is the dense fold total = c0; total += c1; ... bit for bit.
  // The scratch is the thread's own and kept between calls, all zero on entry and on exit (each
  // chunk clears what it touched): no allocation and no clearing of a (V x features) block per
  // call.
  clear(dtable);
  thread_local std::vector<float> acc;
  thread_local std::vector<char> touched_mark;
  thread_local std::vector<size_t> touched;
  if (acc.size() < v * width) acc.resize(v * width, 0.0f);
  if (touched_mark.size() < v) touched_mark.resize(v, 0);
  touched.clear();
  for (int q = 0; q < chunks; q++) {
    for (int b = q * kChunk; b < (q + 1) * kChunk && b < g.n; b++)
      for (int s = 0; s < g.t; s++) {
        const size_t at = size_t(b) * g.t + s, id = size_t(ids[at]);
        if (!touched_mark[id]) {
          touched_mark[id] = 1;
          touched.push_back(id);
        }
        float* column = acc.data() + id * width;
        const float* row = dy + at * g.f + f0;
        for (size_t k = 0; k < width; k++) column[k] += row[k];
      }
    for (const size_t id : touched) {
      float* column = acc.data() + id * width;
      for (size_t k = 0; k < width; k++) {
        float& total = dtable[(size_t(f0) + k) * v + id];
        total = total + column[k];
        column[k] = 0.0f;
      }
      touched_mark[id] = 0;
    }
    touched.clear();
  }
}

}  // namespace repro::reference
