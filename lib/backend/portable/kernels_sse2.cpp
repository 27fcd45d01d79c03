// The portable kernels built for sse2 (flags set in lib/CMakeLists.txt).
#define PORTABLE_ISA sse2
#include "backend/portable/kernels_impl.h"

namespace repro::portable {
const Kernels& kernels_sse2() { return sse2::kernels(); }
}  // namespace repro::portable
