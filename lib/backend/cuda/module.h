// The boundary between repro and librepro_cudnn.so, the cuDNN backend built as a module that
// repro loads with dlopen only when a run asks for it (loader.cpp). One C entry point hands out a
// table of functions; no vendor type crosses it, only the Backend interface of backend.h.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace repro::cudnn_module {

// Bump on any change to Table or to the types it passes (backend.h, core/error.h): a module built
// for another number is refused before any of its functions is called.
constexpr int kInterfaceVersion = 2;

struct Table {
  int interface_version;  // kInterfaceVersion of the module's build; stays the first member
  // Throws RuntimeError("device cuda: no CUDA device ...") when no GPU or driver is usable.
  std::unique_ptr<Backend> (*make_backend)(const BackendOptions& options);
  // CUDA devices usable by this process; 0 when the driver is missing or reports an error.
  int (*device_count)();
  // determinism: portable: kernels in the CPU portable backend's operation order.
  std::unique_ptr<Backend> (*make_portable_backend)(const BackendOptions& options);
};

constexpr const char* kEntryPoint = "repro_cudnn_module";

}  // namespace repro::cudnn_module

// The module's one exported symbol: its table when it speaks `interface_version`, else null.
extern "C" __attribute__((visibility("default"))) const repro::cudnn_module::Table*
repro_cudnn_module(int interface_version);
