// Compares two run records (history.json files or run folders) and returns a report; printing
// and exit codes belong to app/compare.cpp (and app/report.cpp). compare_histories,
// compare_run_records and compare_run_folders are pure; read_run_folder and compare_paths read.
//
// The rule: a verdict of SAME rests on evidence. Two history files must have values to compare
// (else InputError). Two run folders always compare their architectures (layer list and weight
// shapes) and their final weights as model.safetensors holds them (bit for bit with --exact,
// numpy.isclose per value otherwise), and a file that no longer matches the digest its run.json
// recorded is a difference in itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"
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

// The final weights of two run folders (model.safetensors), compared when the architectures match.
struct WeightsComparison {
  bool compared = false;
  std::string sha256_a, sha256_b;  // recomputed from the files' tensors
  size_t values = 0;               // float32 values compared
  size_t differing = 0;            // values that do not match under the options
  double max_abs_diff = 0;         // over every pair whose bits differ (NaN aside)
  std::string first_tensor;        // the first tensor holding a differing value ("" none)
  bool same = true;
};

struct CompareReport {
  std::vector<KeyComparison> keys;
  bool histories_same = true;
  size_t values_compared = 0;  // history value pairs compared, over all keys

  // Run folders: "" when the architectures match, else the first difference in one line
  // ("layer 2 is dropout in A, dense in B").
  std::string architecture_difference;
  WeightsComparison weights;
  bool initial_weights_differ = false;  // run.json's digests of the weights before step 1
  // Files that do not match the digest their run.json recorded: "A: model.safetensors ...".
  std::vector<std::string> changed;

  bool runs = false;                  // both sides were run folders
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

// Every key of either history, or options.keys (InputError for a key in neither: a typo must not
// pass as a difference or as nothing).
CompareReport compare_histories(const History& a, const History& b, const CompareOptions& options);

// Adds the run.json parts: per-epoch weight digests, initial weights, environment differences.
// Per-epoch digests only count toward the verdict with options.exact (they are bitwise by
// nature; a tolerant compare reports them without failing on them).
void compare_run_records(const RunRecord& a, const RunRecord& b, const CompareOptions& options,
                         CompareReport& report);
// "epoch 1 step 312, conv2d_1 kernel gradient" for a trace divergence.
std::string describe_divergence(const TraceDivergence& divergence);

std::optional<TraceDivergence> first_trace_divergence(const std::vector<TraceEntry>& a,
                                                      const std::vector<TraceEntry>& b,
                                                      size_t* pairs_compared = nullptr);

// What compare reads from a run folder: run.json, history.json and model.safetensors always,
// trace.jsonl when the run traced.
struct RunFolder {
  std::string path;
  RunRecord run;
  History history;
  std::vector<NamedTensor> weights;  // model.safetensors, in file order
  std::optional<std::vector<TraceEntry>> trace;
  // Files that do not match run.json's record of them: "model.safetensors changed after the run
  // (...)". Such a folder never compares SAME.
  std::vector<std::string> changed;
  std::vector<std::string> notes;  // what could not be checked (older run.json), files ignored
};

// Reads a run folder with the bounded readers and checks every file against run.json's digests.
// InputError naming the path for a folder that is not a run folder (no run.json: "is it still
// training?"), a missing history.json or model.safetensors, or a damaged file.
RunFolder read_run_folder(const std::string& folder);

// The first difference between two run folders' architectures, "" when none: the layer kinds
// (from run.json's model.* keys), then the weight tensors' names and shapes.
std::string architecture_difference(const RunFolder& a, const RunFolder& b);

// Two loaded run folders: architectures, final weights, histories, run.json (per-epoch digests,
// environments), then the first trace divergence when both have a trace. Pure.
CompareReport compare_run_folders(const RunFolder& a, const RunFolder& b,
                                  const CompareOptions& options);

// Two run folders, read and compared.
CompareReport compare_runs(const std::string& folder_a, const std::string& folder_b,
                           const CompareOptions& options);
// A and B each a history file or a run folder; a folder against a file compares histories (the
// folder's checked against its run.json). InputError when no value could be compared.
CompareReport compare_paths(const std::string& a, const std::string& b,
                            const CompareOptions& options);

}  // namespace repro
