// The CPU backend on oneDNN primitives (created once per geometry and replayed).
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

// In a build without oneDNN (REPRO_HAVE_ONEDNN 0, backend.cpp) this throws InputError naming
// the build, and determinism: on and off run the portable backend (resolve_backend_name).
std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options);

// "oneDNN 2.6.3 (hash)": the library repro runs with (repro --version); "none" without it.
std::string onednn_version();

}  // namespace repro
