// `repro report`: several run folders read once, compared (the first with each other one, through
// lib/compare) and laid out as one self-contained HTML page. The app writes the page; this module
// builds it and never prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compare/compare.h"
#include "record/steps.h"
#include "report/chart.h"

namespace repro {

struct ReportRun {
  RunFolder folder;  // folder.path as given on the command line: the name in legends and tables
  std::optional<std::vector<StepRecord>> steps;  // steps.csv, when the run logged steps
};

struct Report {
  std::vector<ReportRun> runs;
  CompareOptions options;
  std::vector<CompareReport> comparisons;  // comparisons[i]: runs[0] (A) against runs[i + 1]
};

// Reads a run folder: history.json (required), run.json, trace.jsonl and steps.csv when there,
// all through the bounded readers. InputError naming the path for a missing or wrong folder, a
// missing history.json or a damaged file.
ReportRun read_report_run(const std::string& folder);

// Compares runs[0] with every other run; at least one run.
Report build_report(std::vector<ReportRun> runs, const CompareOptions& options);

// "A", "B", ... "Z", then "#27": how the page and the verdicts name run i.
std::string run_letter(size_t run);
// The CSS colour of run i's curves and swatch (the page defines it for light and dark).
std::string run_color(size_t run);

// history.json curves: loss, then accuracy, over epochs; validation dashed.
std::vector<Chart> epoch_charts(const Report& report);
// steps.csv curves: loss, then accuracy, over optimizer steps, with each first trace divergence
// marked; empty when no run has steps.csv.
std::vector<Chart> step_charts(const Report& report);

// The whole page: runs, verdicts, curves, run.json side by side. Deterministic: the same runs
// give the same bytes.
std::string report_html(const Report& report);

}  // namespace repro
