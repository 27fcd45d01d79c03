// The words of a compare report, shared by `repro compare` (text and Markdown) and `repro report`
// (HTML): the tolerance mode, a per-key row's cells, the weights and trace lines and the verdict.
// Plain text only: escaping for a format (Markdown, HTML) is the caller's.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "compare/compare.h"

namespace repro {

// "exact: identical bits" or "numpy.allclose: rtol=1e-05, atol=1e-08[, equal_nan]".
std::string compare_mode_text(const CompareOptions& options);

// One row of the per-key table: key, compared, max abs diff, max rel diff, first diff, status
// (`differ` is how a differing status reads: "DIFFER", "**DIFFER**").
std::array<std::string, 6> key_row_cells(const KeyComparison& row, const std::string& differ);

// "final weights: 21,578 values identical (sha256 ...)" or how they differ; "" when not compared.
std::string weights_line(const CompareReport& report, const CompareOptions& options);

// "architecture: differs: layer 2 is dropout in A, dense in B", or "" when the architectures
// match: printed before anything else, since no other difference means much then.
std::string architecture_line(const CompareReport& report);

// What run folders add below the table, most telling first: files changed after the run, the
// final weights, the per-epoch digests, the trace.
std::vector<std::string> run_folder_lines(const CompareReport& report,
                                          const CompareOptions& options);

// "verdict: SAME (mode)" or "verdict: DIFFER (mode): loss from epoch 2, ..."; a tolerant SAME that
// is not bit-identical says so.
std::string verdict_line(const CompareReport& report, const CompareOptions& options);

}  // namespace repro
