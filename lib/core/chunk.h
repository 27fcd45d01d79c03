// The chunk: 8 consecutive images of a batch, the unit of work of every batch sum. Each sum over
// a batch is the sum over its chunks in chunk order, so threads, ranks and devices decide only who
// computes a chunk, never the order of a sum (docs/design/determinism.md, "The chunk rule").
// Plain constants: the CUDA kernels include this header too.
#pragma once

namespace repro {

inline constexpr int kChunk = 8;  // images per chunk

// Chunks in a batch of `images` (the last one may be short); callable from CUDA kernels too.
#ifdef __CUDACC__
__host__ __device__
#endif
    constexpr int
    chunk_count(int images) {
  return (images + kChunk - 1) / kChunk;
}

}  // namespace repro
