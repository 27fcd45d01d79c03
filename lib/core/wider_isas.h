// REPRO_WIDER_ISAS: on x86-64, a function built three times (AVX-512, AVX2 and the baseline)
// with the best the CPU runs picked at load time. Only for loops whose lanes are independent
// elements: every file is built without contraction into FMA (-ffp-contract=off), so a wider
// vector changes how many elements run at once, never a result's bits. Elsewhere it is empty.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define REPRO_WIDER_ISAS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REPRO_WIDER_ISAS
#endif
