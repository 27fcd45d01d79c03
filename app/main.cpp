// repro's entry point: wires the subcommands and turns typed errors into one-line messages and
// exit codes (0 ok, 1 differences found, 2 usage or input error, 3 runtime failure).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <iostream>

#include "commands.h"
#include "core/error.h"

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

}  // namespace

int main(int argc, char** argv) {
  shorten_openmp_spin(argv);
  CLI::App app{"repro: reproducible neural-network training, and proof of it", "repro"};
  app.set_version_flag("--version", std::string("repro ") + REPRO_VERSION);
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

  // A write past RLIMIT_FSIZE fails with EFBIG (reported, exit 3) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    const std::string command_error = repro::app::unknown_command(app, argc, argv);
    if (!command_error.empty()) {
      std::cerr << "repro: " << repro::one_line(command_error) << "\n";
      return 2;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "repro: " << repro::one_line(e.what()) << " (see repro --help)\n";
    return 2;
  } catch (const repro::InputError& e) {
    std::cerr << "repro: " << repro::one_line(e.what()) << "\n";
    return 2;
  } catch (const repro::RuntimeError& e) {
    std::cerr << "repro: " << repro::one_line(e.what()) << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "repro: " << repro::one_line(e.what()) << "\n";
    return 3;
  }
  return exit_code;
}
