// Reading the runs of a report and comparing them: the first run (A) against each other one,
// through lib/compare's pure compare_run_folders, so the page and `repro compare` agree.
#include "report/report.h"

#include <filesystem>

#include "core/error.h"

namespace repro {
namespace {

constexpr size_t kRunColors = 8;  // --run-0 .. --run-7 in the page's CSS

}  // namespace

std::string run_letter(size_t run) {
  if (run < 26) return std::string(1, static_cast<char>('A' + run));
  std::string number = "#";
  return number.append(std::to_string(run + 1));
}

std::string run_color(size_t run) { return "var(--run-" + std::to_string(run % kRunColors) + ")"; }

ReportRun read_report_run(const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(folder, error);
  if (!fs::exists(status))
    throw InputError(folder + ": no such folder; give a run folder written by repro train");
  if (!fs::is_directory(status))
    throw InputError(folder + ": not a folder; repro report takes run folders (the --out of " +
                     "repro train), not single files");
  ReportRun run;
  run.folder = read_run_folder(folder);
  const fs::path steps = fs::path(folder) / "steps.csv";
  if (fs::exists(steps)) {
    // Only this run's steps.csv: one that run.json does not list is another run's.
    const auto recorded = run.folder.run.files.find("steps.csv");
    if (run.folder.run.files.empty() || recorded != run.folder.run.files.end()) {
      if (recorded != run.folder.run.files.end() && sha256_file(steps.string()) != recorded->second)
        throw InputError(steps.string() +
                         ": changed after the run (its SHA-256 is not the one "
                         "run.json recorded); restore it or delete it to report without steps");
      run.steps = read_steps(steps.string());
    }
  }
  return run;
}

Report build_report(std::vector<ReportRun> runs, const CompareOptions& options) {
  REPRO_CHECK(!runs.empty(), "a report needs at least one run");
  Report report;
  report.runs = std::move(runs);
  report.options = options;
  for (size_t i = 1; i < report.runs.size(); ++i)
    report.comparisons.push_back(
        compare_run_folders(report.runs[0].folder, report.runs[i].folder, options));
  return report;
}

}  // namespace repro
