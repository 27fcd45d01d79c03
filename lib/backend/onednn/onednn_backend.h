// The CPU backend on oneDNN primitives (created once per geometry and replayed).
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options);

// "oneDNN 2.6.3 (hash)": the library repro runs with (repro --version).
std::string onednn_version();

}  // namespace repro
