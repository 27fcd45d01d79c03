// The reference backend: naive loops in a fixed order, readable; the oracle for every test.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro {

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options);

}  // namespace repro
