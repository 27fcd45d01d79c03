// The backend registry: the one place that knows which backends this build has. The cuDNN
// backend is a module that make_cudnn_backend loads on first use, so asking for reference or
// onednn never maps a CUDA library.
#include "backend/backend.h"

#include "backend/onednn/onednn_backend.h"
#include "backend/reference/reference_backend.h"
#include "core/error.h"
#if REPRO_HAVE_CUDA
#include "backend/cudnn/cudnn_backend.h"
#endif

namespace repro {

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "reference") return make_reference_backend(options);
  if (name == "onednn") return make_onednn_backend(options);
  if (name == "cudnn") {
#if REPRO_HAVE_CUDA
    return make_cudnn_backend(options);
#else
    throw InputError(
        "device cuda: this repro was built without CUDA; rebuild with -DREPRO_WITH_CUDA=ON on a "
        "machine with nvcc and cuDNN, or use device: cpu");
#endif
  }
  throw InputError("unknown backend '" + name + "'; use reference, onednn or cudnn");
}

}  // namespace repro
