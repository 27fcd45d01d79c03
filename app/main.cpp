// repro's entry point: wires the subcommands and turns typed errors into one-line messages and
// exit codes (0 ok, 1 differences found, 2 usage or input error, 3 runtime failure).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <string>

#include "backend/onednn/onednn_backend.h"
#include "commands.h"
#include "core/error.h"
#include "dist/agree.h"
#include "dist/communicator.h"
#include "git_version.h"
#include "record/run_record.h"

namespace {

// OpenMP threads that wait for work spin before they sleep; with libgomp's default spin, a run
// whose core another process holds loses most of its time to spinning (measured on the recipe at
// 2 threads beside one busy process: 2.54 s for 100 steps, against 1.82 s with
// GOMP_SPINCOUNT=1000, which costs about 3% on a quiet machine). libgomp reads the setting once
// as it loads, before main(), so repro sets it and starts itself again, once. A user's own
// GOMP_SPINCOUNT or OMP_WAIT_POLICY wins.
void shorten_openmp_spin(char** argv) {
  if (std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) return;
  if (::setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Only reached when exec failed: go on with the default spin, which is merely slower.
}

// The one-line error and the exit code. Under mpirun, a failure every rank shares is printed by
// rank 0 alone and each rank exits with the code; a failure on this rank alone ends the whole
// job (MPI_Abort), so no rank is left waiting in a collective.
int fail(const std::string& what, int code) {
  if (repro::world_is_mpi() && repro::world().size() > 1 && !repro::failure_is_shared()) {
    std::cerr << "repro: rank " << repro::world().rank() << " (" << repro::world().host()
              << "): " << repro::one_line(what) << std::endl;
    repro::world().abort(code);
  }
  const int rank =
      repro::world_is_mpi() ? repro::world().rank() : repro::launch_from_environment().rank;
  if (rank == 0) std::cerr << "repro: " << repro::one_line(what) << "\n";
  repro::finalize_world();
  return code;
}

}  // namespace

// repro --version: what a bug report needs to name this build.
std::string version_text() {
  const std::map<std::string, std::string> env = repro::environment_fingerprint();
  const std::string mpi = repro::mpi_library_version();
  return std::string("repro ") + REPRO_VERSION + " (commit " + REPRO_GIT + ")\n" +
         "compiler: " + env.at("compiler") + " for " + env.at("architecture") + "\n" + "backend: " +
         (REPRO_HAVE_ONEDNN ? repro::onednn_version()
                            : std::string("portable only (built without oneDNN: determinism on "
                                          "and off run the portable backend)")) +
         "\n" +
         "MPI: " + (repro::built_with_mpi() ? "built in, " + mpi : std::string("not built in")) +
         "\n" + "CUDA module: " + (REPRO_HAVE_CUDA ? "built (librepro_cudnn.so)" : "not built");
}

int main(int argc, char** argv) {
  shorten_openmp_spin(argv);
  CLI::App app{"repro: reproducible neural-network training, and proof of it", "repro"};
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);

  int exit_code = 0;
  repro::app::setup_train(app, exit_code);
  repro::app::setup_compare(app, exit_code);
  repro::app::setup_report(app, exit_code);
  repro::app::setup_summary(app, exit_code);
  repro::app::setup_initializers(app, exit_code);
  repro::app::setup_data(app, exit_code);
  repro::app::setup_check(app, exit_code);
  repro::app::setup_env(app, exit_code);
  repro::app::setup_import(app, exit_code);
  repro::app::setup_evaluate(app, exit_code);
  repro::app::setup_predict(app, exit_code);
  repro::app::setup_export(app, exit_code);
  repro::app::setup_schema(app, exit_code);
  repro::app::setup_docs(app, exit_code, REPRO_VERSION);

  // A write past RLIMIT_FSIZE fails with EFBIG (reported, exit 3) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    const std::string command_error = repro::app::unknown_command(app, argc, argv);
    if (!command_error.empty()) return fail(command_error, 2);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(repro::app::flag_error(e.what(), repro::app::command_path(app, argc, argv)), 2);
  } catch (const repro::InputError& e) {
    return fail(e.what(), 2);
  } catch (const repro::RuntimeError& e) {
    return fail(e.what(), 3);
  } catch (const std::exception& e) {
    return fail(e.what(), 3);
  }
  repro::finalize_world();
  return exit_code;
}
