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

namespace {

// 21578 -> "21,578".
std::string grouped(size_t value) {
  std::string digits = std::to_string(value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string weights_line(const CompareReport& report, const CompareOptions& options) {
  const WeightsComparison& w = report.weights;
  if (!w.compared) return "";
  const bool identical = w.sha256_a == w.sha256_b;
  if (w.same)
    return "final weights: " + grouped(w.values) + " values " +
           (identical ? "identical (sha256 " + w.sha256_a.substr(0, 12) + ")"
                      : "allclose, not bit-identical (max abs diff " +
                            short_number(w.max_abs_diff) + ")");
  return "final weights: " + grouped(w.differing) + " of " + grouped(w.values) + " values " +
         (options.exact ? "differ" : "not allclose") + ", from " + w.first_tensor +
         " (max abs diff " + short_number(w.max_abs_diff) + ")";
}

std::string architecture_line(const CompareReport& report) {
  return report.architecture_difference.empty()
             ? ""
             : "architecture: differs: " + report.architecture_difference;
}

std::vector<std::string> run_folder_lines(const CompareReport& report,
                                          const CompareOptions& options) {
  std::vector<std::string> lines;
  if (report.keys.empty()) lines.push_back("history: no finished epoch in A or B (no values)");
  for (const std::string& c : report.changed) lines.push_back(c);
  if (report.weights.compared) lines.push_back(weights_line(report, options));
  if (report.runs) {
    if (report.initial_weights_differ)
      lines.push_back("weights: differ from the start (the initial weights differ)");
    else if (report.first_weights_epoch)
      lines.push_back("weights: digests differ from epoch " +
                      std::to_string(report.first_weights_epoch));
    else if (std::min(report.epochs_a, report.epochs_b) > 0)
      lines.push_back("weights: identical digests after each of " +
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
    auto add = [&](const std::string& part) {
      verdict += sep + part;
      sep = ", ";
    };
    if (!report.architecture_difference.empty())
      add("architecture (" + report.architecture_difference + ")");
    for (const std::string& c : report.changed) add(c.substr(0, c.find(" (")));
    for (const KeyComparison& row : report.keys) {
      if (row.same) continue;
      add(row.key + (row.note.empty() ? " from epoch " + std::to_string(row.first_differing_epoch)
                                      : " " + row.note));
    }
    if (report.weights.compared && !report.weights.same)
      add("final weights (" + grouped(report.weights.differing) + " of " +
          grouped(report.weights.values) + " values)");
    if (report.initial_weights_differ && options.exact)
      add("initial weights");
    else if (report.first_weights_epoch && options.exact)
      add("weights from epoch " + std::to_string(report.first_weights_epoch));
    if (report.divergence && options.exact)
      add((report.divergence->step == 0 ? "first divergence " : "first divergence at ") +
          describe_divergence(*report.divergence));
  }
  if (report.same && !options.exact &&
      (report.first_weights_epoch || report.divergence ||
       report.weights.sha256_a != report.weights.sha256_b)) {
    std::string where = report.divergence ? "from " + describe_divergence(*report.divergence)
                        : report.first_weights_epoch
                            ? "weights from epoch " + std::to_string(report.first_weights_epoch)
                            : "final weights";
    verdict += "; not bit-identical (" + where + "): --exact fails on that";
  }
  return verdict;
}

}  // namespace repro
