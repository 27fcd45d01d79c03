// mpirun as a child process: fork, exec, wait, and the log's last line when it fails.
#include "dist/launch.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "core/fs.h"

namespace repro {

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, colon - start)) / name;
    if (colon > start && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = colon + 1;
  }
  return "";
}

void run_under_mpirun(int ranks, const std::vector<std::string>& command,
                      const std::filesystem::path& log, const std::string& what) {
  const std::string mpirun = find_on_path("mpirun");
  if (mpirun.empty())
    throw InputError(what + ": no mpirun on PATH; install openmpi-bin (scripts/setup.sh does)");
  std::vector<std::string> args = {mpirun, "-n", std::to_string(ranks)};
  if (ranks > static_cast<int>(std::thread::hardware_concurrency()))
    args.push_back("--oversubscribe");
  if (::geteuid() == 0) args.push_back("--allow-run-as-root");
  args.insert(args.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw RuntimeError(what + ": fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string text = read_file(log.string());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    const std::string last =
        text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    std::string name = std::filesystem::path(command.empty() ? "" : command[0]).filename();
    if (command.size() > 1) name += " " + command[1];
    throw RuntimeError(what + ": mpirun -n " + std::to_string(ranks) + " " + name + " failed (" +
                       (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                          : std::string("killed")) +
                       "); its output is in " + log.string() + ": " + clipped(last, 200));
  }
}

}  // namespace repro
