// repro report RUN [RUN...]: reads the run folders, has lib/report compare the first with each
// other one and lay them out as one self-contained HTML file, and writes it atomically. Wiring
// only; the exit code says whether the file was written, not whether the runs agree.
#include "report/report.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "core/fs.h"

namespace repro::app {

struct ReportCliOptions {
  std::vector<std::string> runs;
  std::string out = "report.html";
  CompareOptions compare;
  bool quiet = false;
};

int run_report(const ReportCliOptions& options) {
  if (std::filesystem::is_directory(options.out))
    throw InputError("--out " + options.out + ": is a folder; give a file name such as " +
                     (std::filesystem::path(options.out) / "report.html").string());
  std::vector<ReportRun> runs;
  for (const std::string& folder : options.runs) runs.push_back(read_report_run(folder));
  const Report report = build_report(std::move(runs), options.compare);
  write_file_atomic(options.out, report_html(report));
  if (options.quiet) return 0;
  std::string verdicts;
  for (size_t i = 0; i < report.comparisons.size(); ++i)
    verdicts += std::string(i ? ", " : "; ") + run_letter(0) + " vs " + run_letter(i + 1) + ": " +
                (report.comparisons[i].same ? "SAME" : "DIFFER");
  std::printf("Report: %s (%zu run%s%s); open it in a browser\n", options.out.c_str(),
              report.runs.size(), report.runs.size() == 1 ? "" : "s", verdicts.c_str());
  return 0;
}

void setup_report(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReportCliOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write one HTML file with the runs' learning curves, verdict and run.json side by side");
  cmd->add_option("RUN", options->runs,
                  "run folders; the first (A) is compared with each other one")
      ->required();
  cmd->add_option("--out", options->out, "the HTML file to write")->capture_default_str();
  add_compare_flags(cmd, options->compare);
  cmd->add_flag("--quiet", options->quiet, "print nothing but errors");
  cmd->callback([options, &exit_code] { exit_code = run_report(*options); });
}

}  // namespace repro::app
