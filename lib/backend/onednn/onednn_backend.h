// The CPU backend on oneDNN primitives (created once per geometry and replayed).
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options);

}  // namespace repro
