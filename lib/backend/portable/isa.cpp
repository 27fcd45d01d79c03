// Picks the portable kernels' ISA path: the best this CPU runs, or the one asked for.
#include <string>

#include "backend/portable/kernels.h"
#include "core/error.h"

namespace repro::portable {

#if !defined(__x86_64__)
const Kernels& select_kernels(const std::string& isa) {
  const Kernels& only = kernels_generic();
  if (isa.empty() || isa == only.isa) return only;
  throw InputError("REPRO_ISA=" + isa + ": this architecture's portable kernels have one path, " +
                   only.isa + "; use it or leave REPRO_ISA unset");
}
#else
const Kernels& select_kernels(const std::string& isa) {
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2");
  bool avx512 = __builtin_cpu_supports("avx512f");
  if (isa.empty()) return avx512 ? kernels_avx512() : avx2 ? kernels_avx2() : kernels_sse2();
  if (isa == "sse2") return kernels_sse2();
  if (isa == "avx2" || isa == "avx512") {
    if (isa == "avx2" ? !avx2 : !avx512)
      throw InputError("REPRO_ISA=" + isa + ": this CPU does not run " + isa + "; use sse2" +
                       (avx2 ? " or avx2" : "") + " (all paths give the same bits)");
    return isa == "avx2" ? kernels_avx2() : kernels_avx512();
  }
  throw InputError("REPRO_ISA=" + isa + ": unknown ISA path; use sse2, avx2 or avx512");
}
#endif

}  // namespace repro::portable
