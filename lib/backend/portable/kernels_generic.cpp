// The portable kernels for an architecture other than x86-64, built for its baseline: NEON on
// aarch64 (the compiler lowers the 16-float vectors to it), scalar or the baseline's vectors
// elsewhere (lib/CMakeLists.txt builds this file there, and the x86 ones only on x86-64).
#if defined(__aarch64__)
#define PORTABLE_ISA_NAME "neon"
#else
#define PORTABLE_ISA_NAME "generic"
#endif
#define PORTABLE_ISA generic
#include "backend/portable/kernels_impl.h"

namespace repro::portable {
const Kernels& kernels_generic() { return generic::kernels(); }
}  // namespace repro::portable
