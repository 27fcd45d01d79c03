// The compare report in words. Numbers in the table are short (%.3g); the verdict names every
// differing key with its first epoch, and with --exact the weights and the first divergence.
#include "compare/describe.h"

#include <algorithm>
#include <cstdio>

namespace repro {
namespace {

std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

}  // namespace

std::string compare_mode_text(const CompareOptions& options) {
  if (options.exact) return "exact: identical bits";
  return "numpy.allclose: rtol=" + python_float_repr(options.rtol) +
         ", atol=" + python_float_repr(options.atol) + (options.equal_nan ? ", equal_nan" : "");
}

std::array<std::string, 6> key_row_cells(const KeyComparison& row, const std::string& differ) {
  const bool both = row.in_a && row.in_b;
  std::string status = row.same ? "same" : differ;
  if (!row.note.empty()) status += " (" + row.note + ")";
  return {row.key,
          both ? std::to_string(row.compared) : "-",
          both ? short_number(row.max_abs_diff) : "-",
          both ? short_number(row.max_rel_diff) : "-",
          row.first_differing_epoch ? "epoch " + std::to_string(row.first_differing_epoch) : "-",
          status};
}

std::vector<std::string> run_folder_lines(const CompareReport& report) {
  std::vector<std::string> lines;
  if (report.runs) {
    lines.push_back(
        report.first_weights_epoch
            ? "weights: digests differ from epoch " + std::to_string(report.first_weights_epoch)
            : "weights: identical digests for " +
                  std::to_string(std::min(report.epochs_a, report.epochs_b)) + " epochs");
  }
  if (report.traced) {
    lines.push_back(report.divergence
                        ? "first divergence: " + describe_divergence(*report.divergence)
                        : "trace: " + std::to_string(report.trace_steps_compared) +
                              " digests agree");
  }
  return lines;
}

std::string verdict_line(const CompareReport& report, const CompareOptions& options) {
  std::string verdict = report.same ? "verdict: SAME (" + compare_mode_text(options) + ")"
                                    : "verdict: DIFFER (" + compare_mode_text(options) + "):";
  if (!report.same) {
    std::string sep = " ";
    for (const KeyComparison& row : report.keys) {
      if (row.same) continue;
      verdict += sep + row.key +
                 (row.note.empty() ? " from epoch " + std::to_string(row.first_differing_epoch)
                                   : " " + row.note);
      sep = ", ";
    }
    if (report.first_weights_epoch && options.exact) {
      verdict += sep + "weights from epoch " + std::to_string(report.first_weights_epoch);
      sep = ", ";
    }
    if (report.divergence && options.exact)
      verdict += sep + "first divergence at " + describe_divergence(*report.divergence);
  }
  if (report.same && !options.exact && (report.first_weights_epoch || report.divergence)) {
    std::string where = report.divergence
                            ? "from " + describe_divergence(*report.divergence)
                            : "weights from epoch " + std::to_string(report.first_weights_epoch);
    verdict += "; not bit-identical (" + where + "): --exact fails on that";
  }
  return verdict;
}

}  // namespace repro
