// Compares two run records (history.json files or run folders) and returns a report; printing
// and exit codes belong to app/compare.cpp (and app/report.cpp). compare_histories,
// compare_run_records and compare_run_folders are pure; read_run_folder and compare_paths read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record/history.h"
#include "record/run_record.h"
#include "record/trace.h"

namespace repro {

struct CompareOptions {
  double rtol = 1e-5;  // numpy.allclose: |a - b| <= atol + rtol * |b| (asymmetric)
  double atol = 1e-8;
  bool exact = false;             // identical bit patterns: -0.0 != 0.0, NaN == NaN
  bool equal_nan = false;         // tolerant mode only: NaN in both places counts as equal
  std::vector<std::string> keys;  // compare only these history keys (empty: every key)
};

struct KeyComparison {
  std::string key;
  bool in_a = true, in_b = true;
  size_t length_a = 0, length_b = 0;
  size_t compared = 0;            // value pairs compared: min(length_a, length_b)
  double max_abs_diff = 0;        // over compared pairs without NaN
  double max_rel_diff = 0;        // |a - b| / |b| (numpy's reference is b)
  int first_differing_epoch = 0;  // 1-based; 0 when none; length_min + 1 when only lengths differ
  bool same = true;
  std::string note;  // "missing in B", "lengths differ: 2 vs 3", ...
};

struct EnvironmentDifference {
  std::string key;  // "threads", "environment.cpu_isa", "config.data.batch_size", ...
  std::string a, b;
};

struct TraceDivergence {
  int64_t step = 0;
  int epoch = 0;
  int64_t batch = 0;
  std::string tensor;
};

struct CompareReport {
  std::vector<KeyComparison> keys;
  bool histories_same = true;

  bool runs = false;                  // both sides were run folders with run.json
  size_t epochs_a = 0, epochs_b = 0;  // weight digests recorded
  int first_weights_epoch = 0;        // 1-based first epoch whose weight digests differ; 0 none
  std::vector<EnvironmentDifference> environment;  // likely causes, when the runs differ

  bool traced = false;              // both run folders had trace.jsonl
  size_t trace_steps_compared = 0;  // (step, tensor) pairs present in both traces
  std::optional<TraceDivergence> divergence;

  std::vector<std::string> notes;  // what could not be compared, and why
  bool same = true;                // the verdict: exit 0 when true, 1 otherwise
};

// True when a and b agree under the options (numpy.isclose per element, or bit equality).
bool values_match(double a, double b, const CompareOptions& options);

CompareReport compare_histories(const History& a, const History& b, const CompareOptions& options);

// Adds the run-folder parts: weight digests, environment differences, trace divergence.
// Digests and traces only count toward the verdict with options.exact (they are bitwise by
// nature; a tolerant compare reports them without failing on them).
void compare_run_records(const RunRecord& a, const RunRecord& b, const CompareOptions& options,
                         CompareReport& report);
// "epoch 1 step 312, conv2d_1 kernel gradient" for a trace divergence.
std::string describe_divergence(const TraceDivergence& divergence);

std::optional<TraceDivergence> first_trace_divergence(const std::vector<TraceEntry>& a,
                                                      const std::vector<TraceEntry>& b,
                                                      size_t* pairs_compared = nullptr);

// What compare reads from a run folder: history.json always, run.json and trace.jsonl when there.
struct RunFolder {
  std::string path;
  History history;
  std::optional<RunRecord> run;
  std::optional<std::vector<TraceEntry>> trace;
};

// Reads a run folder with the bounded readers; InputError naming the file for a missing
// history.json or a damaged file.
RunFolder read_run_folder(const std::string& folder);

// Two loaded run folders: histories, then weight digests and environments when both have run.json,
// then the first trace divergence when both have a trace. Pure.
CompareReport compare_run_folders(const RunFolder& a, const RunFolder& b,
                                  const CompareOptions& options);

// Two run folders (history.json, run.json when both have it, trace.jsonl when both have it).
CompareReport compare_runs(const std::string& folder_a, const std::string& folder_b,
                           const CompareOptions& options);
// A and B each a history file or a run folder; a folder against a file compares histories.
CompareReport compare_paths(const std::string& a, const std::string& b,
                            const CompareOptions& options);

}  // namespace repro
