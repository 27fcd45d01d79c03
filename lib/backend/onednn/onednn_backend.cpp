// Placeholder until the oneDNN backend lands (same session, next commit): fails loudly.
#include "backend/onednn/onednn_backend.h"

#include "core/error.h"

namespace repro {

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options) {
  throw RuntimeError("backend onednn: not built yet in this revision; use backend reference");
}

}  // namespace repro
