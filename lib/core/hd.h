// REPRO_HD marks small pure functions that CUDA kernels share with the CPU code
// (counter-based RNG, dropout keep test) so both compute the same bits.
#pragma once

#if defined(__CUDACC__)
#define REPRO_HD __host__ __device__ __forceinline__
#else
#define REPRO_HD inline
#endif
