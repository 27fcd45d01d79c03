// Finds and loads librepro_cudnn.so on the first request for the cuDNN backend, so that a CPU
// run never maps the CUDA, cuBLAS or cuDNN libraries. Part of repro itself, not of the module:
// it sees no vendor header. The module is never unloaded: the backends, ops and device arrays it
// made call into it until the process exits.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>

#include "backend/cuda/module.h"
#include "backend/cuda_module.h"
#include "core/error.h"

namespace repro {
namespace {

constexpr const char* kModuleFile = "librepro_cudnn.so";
constexpr const char* kModuleEnv = "REPRO_CUDNN_MODULE";
constexpr const char* kRebuild = "cmake --build BUILD_DIR --target repro_cudnn";

// dlopen's reason, or a stand-in when it left none.
std::string last_dl_error() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dynamic loader error";
}

// Opens the module at `path` and checks its entry point and interface version; every failure is
// one line that names the file (or the library it lacks) and how to fix it.
const cudnn_module::Table* open_module(const std::string& path, bool from_env) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (from_env) {
      throw InputError(std::string("device cuda: ") + kModuleEnv + " names " + path +
                       ", which does not exist; point it at the " + kModuleFile +
                       " of a CUDA build of repro, unset it, or use device: cpu");
    }
    throw RuntimeError("device cuda: the cuDNN backend module " + path +
                       " is missing (it belongs beside the repro binary); build it with `" +
                       kRebuild + "`, copy it there or set " + kModuleEnv +
                       " to its path, or use device: cpu");
  }
  // RTLD_NOW: a missing CUDA symbol fails here, with its name, and not in the middle of a run.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const std::string why = last_dl_error();
    const bool lacks_library = why.find("cannot open shared object file") != std::string::npos;
    throw RuntimeError(
        "device cuda: cannot load the cuDNN backend module " + path + ": " + why + "; " +
        (lacks_library ? "install the CUDA runtime, cuBLAS and cuDNN it was built with (or add "
                         "their lib folders to LD_LIBRARY_PATH)"
                       : "rebuild it (" + std::string(kRebuild) + ")") +
        ", or use device: cpu");
  }
  using Entry = const cudnn_module::Table* (*)(int);
  auto entry = reinterpret_cast<Entry>(dlsym(handle, cudnn_module::kEntryPoint));
  if (entry == nullptr) {
    dlclose(handle);  // nothing of it was called: safe to drop
    throw RuntimeError("device cuda: " + path + " is not a repro cuDNN backend module (no " +
                       cudnn_module::kEntryPoint + " entry point); rebuild it (" + kRebuild +
                       ") or point " + kModuleEnv + " at the right file");
  }
  const cudnn_module::Table* table = entry(cudnn_module::kInterfaceVersion);
  if (table == nullptr || table->interface_version != cudnn_module::kInterfaceVersion) {
    throw RuntimeError("device cuda: the cuDNN backend module " + path +
                       " was built for another version of repro (this one needs module "
                       "interface " +
                       std::to_string(cudnn_module::kInterfaceVersion) +
                       "); rebuild it with this repro (" + kRebuild + ")");
  }
  return table;
}

// The module's table, loaded once; a failed load throws and is tried again on the next call.
const cudnn_module::Table& module_table() {
  static std::mutex mutex;
  static const cudnn_module::Table* table = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (table == nullptr) {
    const char* env = std::getenv(kModuleEnv);
    table = open_module(cudnn_module_path(), env != nullptr && *env != '\0');
  }
  return *table;
}

}  // namespace

std::string cudnn_module_path() {
  const char* env = std::getenv(kModuleEnv);
  if (env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return kModuleFile;  // no /proc: the dynamic loader's search path decides
  return (exe.parent_path() / kModuleFile).string();
}

std::unique_ptr<Backend> make_cudnn_backend(const BackendOptions& options) {
  return module_table().make_backend(options);
}

std::unique_ptr<Backend> make_portable_cuda_backend(const BackendOptions& options) {
  return module_table().make_portable_backend(options);
}

int cuda_device_count() { return module_table().device_count(); }

}  // namespace repro
