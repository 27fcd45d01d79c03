// The portable kernels built for avx2 (flags set in lib/CMakeLists.txt).
#define PORTABLE_ISA avx2
#include "backend/portable/kernels_impl.h"

namespace repro::portable {
const Kernels& kernels_avx2() { return avx2::kernels(); }
}  // namespace repro::portable
