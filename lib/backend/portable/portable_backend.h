// The CPU backend of `determinism: portable`: the same bits on any x86-64 CPU (SSE2, AVX2 or
// AVX-512 path), any thread count and either compiler. Kernels: kernels.h; the exact operation
// order of every op: docs/design/portable.md.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

// The ISA path comes from options.isa, else REPRO_ISA; neither picks the best this CPU runs;
// "sse2", "avx2" or "avx512" forces one (every path gives the same bits; the switch is for tests
// and checks).
std::unique_ptr<Backend> make_portable_backend(const BackendOptions& options);

// The path REPRO_ISA=`isa` would run ("" = the best here); InputError if unknown or unsupported.
std::string portable_isa_path(const std::string& isa);

}  // namespace repro
