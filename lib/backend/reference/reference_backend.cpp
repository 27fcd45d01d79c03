// The reference backend: HostBackend as it is, on one thread. The test oracle every other
// backend is compared with; single-threaded on purpose (the `threads` option is ignored).
#include "backend/reference/reference_backend.h"

#include "backend/reference/host_backend.h"

namespace repro {

namespace {

class ReferenceBackend : public HostBackend {
 public:
  ReferenceBackend() : HostBackend(1) {}
  std::string name() const override { return "reference"; }
  std::string describe() const override { return "reference (naive loops, 1 thread)"; }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options) {
  return std::make_unique<ReferenceBackend>();
}

}  // namespace repro
