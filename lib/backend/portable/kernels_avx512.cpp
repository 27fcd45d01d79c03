// The portable kernels built for avx512 (flags set in lib/CMakeLists.txt).
#define PORTABLE_ISA avx512
#include "backend/portable/kernels_impl.h"

namespace repro::portable {
const Kernels& kernels_avx512() { return avx512::kernels(); }
}  // namespace repro::portable
