// Starting a command on several ranks with mpirun, for `repro check --vary ranks`: the launcher
// found on PATH, the flags a container or a small machine needs, the output kept in a log.
// It does not know what the command does; the caller builds its arguments.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace repro {

// The executable `name` on PATH, or "" when there is none.
std::string find_on_path(const std::string& name);

// Runs `mpirun -n RANKS COMMAND...` (with --oversubscribe past the cores, --allow-run-as-root as
// root), stdout and stderr into `log`, and waits. InputError (naming `what`) when there is no
// mpirun; RuntimeError with the log's last line when it fails.
void run_under_mpirun(int ranks, const std::vector<std::string>& command,
                      const std::filesystem::path& log, const std::string& what);

}  // namespace repro
