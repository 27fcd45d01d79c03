// The cuDNN backend is a module that repro loads only when a run asks for it: the repro binary
// links no CUDA library, a CPU summary or train maps none (the dynamic loader's own log, LD_DEBUG,
// lists every file a process maps, dlopen included), and a missing or broken module is one line
// that names the file and the fix, exit 2 or 3. Holds in any build: without CUDA, `--device
// cuda` says the build has none.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include "run_cli.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using repro_test::data_env;

namespace {

namespace fs = std::filesystem;

using Ran = repro_test::CliResult;

const char* const kCudaLibraries[] = {"libcudart", "libcublas", "libcudnn", "librepro_cudnn"};

fs::path work_dir() { return repro_test::scratch_dir("test_cli_cuda_module"); }

fs::path build_module() { return fs::path(REPRO_EXE).parent_path() / "librepro_cudnn.so"; }

// Runs a shell command from the source tree: stdout, stderr and the exit code.
Ran run_shell(const std::string& command) {
  const fs::path dir = work_dir();
  const std::string line = "cd '" + std::string(REPRO_SOURCE_DIR) + "' && " + command + " >'" +
                           (dir / "out").string() + "' 2>'" + (dir / "err").string() + "'";
  const int status = std::system(line.c_str());
  Ran result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = repro_test::slurp_file(dir / "out");
  result.err = repro_test::slurp_file(dir / "err");
  return result;
}

// `repro ARGS` (or another binary) with the dynamic loader logging every file it maps to stderr.
Ran run_logged(const std::string& exe, const std::string& env, const std::string& args) {
  return run_shell("env LD_DEBUG=files " + env + " '" + exe + "' " + args);
}

// The CUDA libraries (and the module) among the files the loader log says it mapped.
std::string cuda_files_mapped(const std::string& loader_log) {
  std::string found;
  std::istringstream lines(loader_log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("file=") == std::string::npos) continue;
    for (const char* name : kCudaLibraries)
      if (line.find(name) != std::string::npos) found += line + "\n";
  }
  return found;
}

// The repro error lines of stderr (the loader log left out).
std::string error_lines(const std::string& err) {
  std::string found;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("repro: ", 0) == 0) found += line + "\n";
  return found;
}

}  // namespace

TEST_CASE("the repro binary links no CUDA library", "[e2e][cuda_module]") {
  const Ran ldd = run_shell("ldd '" + std::string(REPRO_EXE) + "'");
  if (ldd.exit_code != 0) REPRO_SKIP("ldd cannot read the repro binary here");
  INFO(ldd.out);
  REQUIRE(ldd.out.find("libc.so") != std::string::npos);
  for (const char* name : kCudaLibraries) CHECK(ldd.out.find(name) == std::string::npos);
}

TEST_CASE("repro summary maps no CUDA library", "[e2e][cuda_module]") {
  const Ran ran = run_logged(REPRO_EXE, "", "summary configs/mnist_recipe.yaml");
  INFO(ran.out << error_lines(ran.err));
  REQUIRE(ran.exit_code == 0);
  REQUIRE(ran.err.find("file=") != std::string::npos);  // the loader log is there to read
  CHECK(cuda_files_mapped(ran.err) == "");
}

TEST_CASE("repro train on the CPU maps no CUDA library", "[e2e][cuda_module]") {
  if (data_env().empty())
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path out = work_dir() / "cpu_run";
  fs::remove_all(out);
  const Ran ran =
      run_logged(REPRO_EXE, data_env(),
                 "train configs/tiny.yaml --epochs 1 --quiet --out '" + out.string() + "'");
  INFO(error_lines(ran.err));
  REQUIRE(ran.exit_code == 0);
  REQUIRE(ran.err.find("file=") != std::string::npos);
  CHECK(cuda_files_mapped(ran.err) == "");
  CHECK(fs::exists(out / "history.json"));
}

TEST_CASE("device cuda loads the module beside the repro binary, or says the build has no CUDA",
          "[e2e][cuda_module]") {
  const fs::path out = work_dir() / "cuda_run";
  fs::remove_all(out);
  const Ran ran = run_logged(
      REPRO_EXE, data_env(),
      "train configs/tiny.yaml --device cuda --epochs 1 --quiet --out '" + out.string() + "'");
  const std::string errors = error_lines(ran.err);
  INFO(errors);
  if (!fs::exists(build_module())) {
    // A build without CUDA: the registry says so, and nothing of CUDA is mapped.
    CHECK(ran.exit_code == 2);
    CHECK(errors.find("built without CUDA") != std::string::npos);
    CHECK(cuda_files_mapped(ran.err) == "");
    return;
  }
  CHECK(ran.err.find("file=" + build_module().string()) != std::string::npos);
  if (ran.exit_code != 0) {  // no GPU here (exit 3), or no MNIST (exit 2): one line either way
    CHECK((ran.exit_code == 2 || ran.exit_code == 3));
    CHECK(std::count(errors.begin(), errors.end(), '\n') == 1);
  }
}

TEST_CASE("REPRO_CUDNN_MODULE naming a missing file is an input error that names it",
          "[e2e][cuda_module]") {
  if (!fs::exists(build_module())) REPRO_SKIP("a build without CUDA has no module to look for");
  const fs::path missing = work_dir() / "no_such_dir" / "librepro_cudnn.so";
  const Ran ran = repro_test::run_repro("REPRO_CUDNN_MODULE='" + missing.string() + "'",
                                        "train configs/tiny.yaml --device cuda --quiet --out '" +
                                            (work_dir() / "missing_module_run").string() + "'");
  CHECK(ran.exit_code == 2);
  CHECK(ran.err == "repro: device cuda: REPRO_CUDNN_MODULE names " + missing.string() +
                       ", which does not exist; point it at the librepro_cudnn.so of a CUDA build "
                       "of repro, unset it, or use device: cpu\n");
}

TEST_CASE("a damaged module is a runtime error with the dynamic loader's reason",
          "[e2e][cuda_module]") {
  if (!fs::exists(build_module())) REPRO_SKIP("a build without CUDA has no module to load");
  const fs::path damaged = work_dir() / "damaged" / "librepro_cudnn.so";
  fs::create_directories(damaged.parent_path());
  std::ofstream(damaged) << "not an ELF file\n";
  const Ran ran = repro_test::run_repro("REPRO_CUDNN_MODULE='" + damaged.string() + "'",
                                        "train configs/tiny.yaml --device cuda --quiet --out '" +
                                            (work_dir() / "damaged_module_run").string() + "'");
  INFO(ran.err);
  CHECK(ran.exit_code == 3);
  CHECK(ran.err.rfind(
            "repro: device cuda: cannot load the cuDNN backend module " + damaged.string() + ": ",
            0) == 0);
  CHECK(ran.err.find("rebuild it (cmake --build BUILD_DIR --target repro_cudnn)") !=
        std::string::npos);
  CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
}

TEST_CASE("a module whose cuDNN library is missing names the library", "[e2e][cuda_module]") {
  if (!fs::exists(build_module())) REPRO_SKIP("a build without CUDA has no module to load");
  // The build's module with its libcudnn dependency renamed: the same length, so the ELF file
  // stays valid and only that one library cannot be found.
  std::string bytes = repro_test::slurp_file(build_module());
  const std::string from = "libcudnn.so.", to = "libnocud.so.";
  size_t renamed = 0;
  for (size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1)) {
    bytes.replace(at, from.size(), to);
    ++renamed;
  }
  REQUIRE(renamed > 0);
  const fs::path patched = work_dir() / "patched" / "librepro_cudnn.so";
  fs::create_directories(patched.parent_path());
  std::ofstream(patched, std::ios::binary) << bytes;
  const Ran ran = repro_test::run_repro("REPRO_CUDNN_MODULE='" + patched.string() + "'",
                                        "train configs/tiny.yaml --device cuda --quiet --out '" +
                                            (work_dir() / "patched_module_run").string() + "'");
  INFO(ran.err);
  CHECK(ran.exit_code == 3);
  CHECK(ran.err.rfind("repro: device cuda: cannot load the cuDNN backend module " +
                          patched.string() + ": libnocud.so.",
                      0) == 0);
  CHECK(ran.err.find("cannot open shared object file") != std::string::npos);
  CHECK(ran.err.find("install the CUDA runtime, cuBLAS and cuDNN it was built with") !=
        std::string::npos);
  CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
  fs::remove_all(patched.parent_path());
}

TEST_CASE("a repro copied without its module says where the module belongs", "[e2e][cuda_module]") {
  if (!fs::exists(build_module())) REPRO_SKIP("a build without CUDA has no module to miss");
  const fs::path bin = work_dir() / "bin";
  fs::remove_all(bin);
  fs::create_directories(bin);
  fs::copy_file(REPRO_EXE, bin / "repro");
  const Ran alone = run_logged((bin / "repro").string(), "",
                               "train configs/tiny.yaml --device cuda --quiet --out '" +
                                   (work_dir() / "copied_module_run").string() + "'");
  CHECK(alone.exit_code == 3);
  CHECK(error_lines(alone.err) ==
        "repro: device cuda: the cuDNN backend module " + (bin / "librepro_cudnn.so").string() +
            " is missing (it belongs beside the repro binary); build it with `cmake --build "
            "BUILD_DIR --target repro_cudnn`, copy it there or set REPRO_CUDNN_MODULE to its "
            "path, or use device: cpu\n");
  CHECK(cuda_files_mapped(alone.err) == "");

  // With the module copied beside it, the copy is the one loaded.
  fs::copy_file(build_module(), bin / "librepro_cudnn.so");
  const Ran together =
      run_logged((bin / "repro").string(), data_env(),
                 "train configs/tiny.yaml --device cuda --epochs 1 --quiet --out '" +
                     (bin / "run").string() + "'");
  INFO(error_lines(together.err));
  CHECK(together.err.find("file=" + (bin / "librepro_cudnn.so").string()) != std::string::npos);
  CHECK(together.err.find("file=" + build_module().string()) == std::string::npos);
  fs::remove_all(bin);
}
