// The comparison of two run records. Tolerant mode follows numpy.isclose exactly (asymmetric:
// the tolerance scales with |b|; inf equals only the same inf; NaN equals NaN only with
// equal_nan); exact mode compares bit patterns. Never throws on differing shapes or keys.
#include "compare/compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"

namespace repro {
namespace {

uint64_t bits_of(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

void add_difference(std::vector<EnvironmentDifference>& out, const std::string& key,
                    const std::string& a, const std::string& b) {
  if (a != b) out.push_back({key, a, b});
}

// Differences between two maps of strings, with "(absent)" for a missing entry.
void add_map_differences(std::vector<EnvironmentDifference>& out, const std::string& prefix,
                         const std::map<std::string, std::string>& ma,
                         const std::map<std::string, std::string>& mb) {
  std::set<std::string> keys;
  for (const auto& [k, v] : ma) keys.insert(k);
  for (const auto& [k, v] : mb) keys.insert(k);
  for (const std::string& key : keys) {
    auto ia = ma.find(key), ib = mb.find(key);
    add_difference(out, prefix + key, ia == ma.end() ? "(absent)" : ia->second,
                   ib == mb.end() ? "(absent)" : ib->second);
  }
}

}  // namespace

bool values_match(double a, double b, const CompareOptions& options) {
  if (options.exact) return bits_of(a) == bits_of(b);
  if (std::isnan(a) || std::isnan(b)) return options.equal_nan && std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= options.atol + options.rtol * std::fabs(b);
}

CompareReport compare_histories(const History& a, const History& b, const CompareOptions& options) {
  CompareReport report;
  std::vector<std::string> keys = options.keys;
  if (keys.empty()) {
    std::set<std::string> all;
    for (const auto& [key, values] : a) all.insert(key);
    for (const auto& [key, values] : b) all.insert(key);
    keys.assign(all.begin(), all.end());
  }
  for (const std::string& key : keys) {
    KeyComparison row;
    row.key = key;
    auto ia = a.find(key), ib = b.find(key);
    row.in_a = ia != a.end();
    row.in_b = ib != b.end();
    if (!row.in_a || !row.in_b) {
      row.same = false;
      row.note = !row.in_a && !row.in_b ? "missing in A and B"
                 : !row.in_a            ? "missing in A"
                                        : "missing in B";
      report.keys.push_back(row);
      report.histories_same = false;
      continue;
    }
    const std::vector<double>& va = ia->second;
    const std::vector<double>& vb = ib->second;
    row.length_a = va.size();
    row.length_b = vb.size();
    row.compared = std::min(va.size(), vb.size());
    for (size_t i = 0; i < row.compared; ++i) {
      bool match = values_match(va[i], vb[i], options);
      if (!match && row.first_differing_epoch == 0)
        row.first_differing_epoch = static_cast<int>(i) + 1;
      if (std::isnan(va[i]) || std::isnan(vb[i])) continue;
      double diff = (va[i] == vb[i]) ? 0.0 : std::fabs(va[i] - vb[i]);  // inf == inf: no difference
      double rel = diff == 0 ? 0.0 : diff / std::fabs(vb[i]);           // x / 0 = inf, like numpy
      if (std::isnan(rel)) rel = 0;  // inf / inf of a non-difference
      row.max_abs_diff = std::max(row.max_abs_diff, diff);
      row.max_rel_diff = std::max(row.max_rel_diff, rel);
    }
    if (va.size() != vb.size()) {
      row.note =
          "lengths differ: " + std::to_string(va.size()) + " vs " + std::to_string(vb.size());
      if (row.first_differing_epoch == 0)
        row.first_differing_epoch = static_cast<int>(row.compared) + 1;
    }
    row.same = row.first_differing_epoch == 0;
    if (!row.same) report.histories_same = false;
    report.keys.push_back(row);
  }
  report.same = report.histories_same;
  return report;
}

std::string describe_divergence(const TraceDivergence& divergence) {
  // "conv2d_1/kernel_grad" -> "conv2d_1 kernel gradient".
  std::string tensor = divergence.tensor;
  const size_t slash = tensor.rfind('/');
  if (slash != std::string::npos) tensor[slash] = ' ';
  const std::string grad = "_grad";
  if (tensor.size() > grad.size() && tensor.ends_with(grad))
    tensor = tensor.substr(0, tensor.size() - grad.size()) + " gradient";
  return "epoch " + std::to_string(divergence.epoch) + " step " + std::to_string(divergence.step) +
         ", " + tensor;
}

std::optional<TraceDivergence> first_trace_divergence(const std::vector<TraceEntry>& a,
                                                      const std::vector<TraceEntry>& b,
                                                      size_t* pairs_compared) {
  std::map<std::pair<int64_t, std::string>, const TraceEntry*> in_b;
  for (const TraceEntry& entry : b) in_b.emplace(std::make_pair(entry.step, entry.tensor), &entry);
  // By step, and within a step in the trainer's order (forward, then backward).
  std::vector<const TraceEntry*> ordered;
  for (const TraceEntry& entry : a) ordered.push_back(&entry);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const TraceEntry* x, const TraceEntry* y) { return x->step < y->step; });
  size_t compared = 0;
  std::optional<TraceDivergence> found;
  for (const TraceEntry* entry : ordered) {
    auto it = in_b.find({entry->step, entry->tensor});
    if (it == in_b.end()) continue;
    ++compared;
    if (it->second->sha256 != entry->sha256) {
      found = TraceDivergence{entry->step, entry->epoch, entry->batch, entry->tensor};
      break;
    }
  }
  if (pairs_compared) *pairs_compared = compared;
  return found;
}

void compare_run_records(const RunRecord& a, const RunRecord& b, const CompareOptions& options,
                         CompareReport& report) {
  report.runs = true;
  report.epochs_a = a.epochs.size();
  report.epochs_b = b.epochs.size();
  size_t common = std::min(a.epochs.size(), b.epochs.size());
  for (size_t i = 0; i < common && report.first_weights_epoch == 0; ++i) {
    if (a.epochs[i].weights_sha256 != b.epochs[i].weights_sha256)
      report.first_weights_epoch = a.epochs[i].epoch;
  }
  if (report.first_weights_epoch == 0 && a.epochs.size() != b.epochs.size()) {
    report.notes.push_back("weight digests recorded for " + std::to_string(a.epochs.size()) +
                           " vs " + std::to_string(b.epochs.size()) + " epochs");
  }
  if (options.exact && (report.first_weights_epoch != 0 || a.epochs.size() != b.epochs.size()))
    report.same = false;

  std::vector<EnvironmentDifference>& env = report.environment;
  add_difference(env, "repro_version", a.repro_version, b.repro_version);
  add_difference(env, "seed", std::to_string(a.seed), std::to_string(b.seed));
  add_difference(env, "rng", a.rng, b.rng);
  add_difference(env, "backend", a.backend, b.backend);
  add_difference(env, "device", a.device, b.device);
  add_difference(env, "determinism", a.determinism, b.determinism);
  add_difference(env, "threads", std::to_string(a.threads), std::to_string(b.threads));
  add_difference(env, "ranks", std::to_string(a.ranks), std::to_string(b.ranks));
  add_map_differences(env, "environment.", a.environment, b.environment);
  add_map_differences(env, "config.", {a.config.begin(), a.config.end()},
                      {b.config.begin(), b.config.end()});
  add_difference(env, "completed", a.completed ? "yes" : "no", b.completed ? "yes" : "no");

  // Between two portable runs, the CPU, its ISA path, the compiler and the thread count cannot
  // change a bit: they are not offered as causes, only named in a note.
  if (a.determinism == "portable" && b.determinism == "portable") {
    const std::set<std::string> cannot = {"threads",          "config.threads",
                                          "environment.cpu_isa", "environment.cpu_model",
                                          "environment.compiler", "environment.cores",
                                          "environment.backend"};
    std::string ruled_out;
    std::vector<EnvironmentDifference> kept;
    for (const EnvironmentDifference& d : env) {
      if (cannot.count(d.key))
        ruled_out += (ruled_out.empty() ? "" : ", ") + d.key;
      else
        kept.push_back(d);
    }
    env = kept;
    if (!ruled_out.empty())
      report.notes.push_back("determinism: portable in both runs, so these differences cannot "
                             "explain a result: " + ruled_out);
  }
}

RunFolder read_run_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path path(folder);
  if (!fs::exists(path / "history.json")) {
    throw InputError((path / "history.json").string() + ": missing; is " + folder +
                     " a run folder written by repro train?");
  }
  RunFolder run;
  run.path = folder;
  run.history = read_history((path / "history.json").string());
  if (fs::exists(path / "run.json")) run.run = read_run_record((path / "run.json").string());
  if (fs::exists(path / "trace.jsonl")) run.trace = read_trace((path / "trace.jsonl").string());
  return run;
}

CompareReport compare_run_folders(const RunFolder& a, const RunFolder& b,
                                  const CompareOptions& options) {
  CompareReport report = compare_histories(a.history, b.history, options);
  if (a.run && b.run) {
    compare_run_records(*a.run, *b.run, options, report);
  } else {
    report.notes.push_back(std::string("no run.json in ") +
                           (a.run   ? "B"
                            : b.run ? "A"
                                    : "A and B") +
                           ": weight digests and environments not compared");
  }
  if (a.trace && b.trace) {
    report.traced = true;
    report.divergence = first_trace_divergence(*a.trace, *b.trace, &report.trace_steps_compared);
    if (report.trace_steps_compared == 0)
      report.notes.push_back("the traces share no (step, tensor) pair");
    if (options.exact && report.divergence) report.same = false;
  } else if (a.trace.has_value() != b.trace.has_value()) {
    report.notes.push_back(std::string("only ") + (a.trace ? "A" : "B") +
                           " has trace.jsonl: divergence not located");
  }
  return report;
}

CompareReport compare_runs(const std::string& folder_a, const std::string& folder_b,
                           const CompareOptions& options) {
  return compare_run_folders(read_run_folder(folder_a), read_run_folder(folder_b), options);
}

CompareReport compare_paths(const std::string& a, const std::string& b,
                            const CompareOptions& options) {
  namespace fs = std::filesystem;
  for (const std::string& path : {a, b}) {
    if (!fs::exists(path))
      throw InputError(path + ": no such file or folder; give a history.json or a run folder");
  }
  bool folder_a = fs::is_directory(a), folder_b = fs::is_directory(b);
  if (folder_a && folder_b) return compare_runs(a, b, options);
  std::string file_a = folder_a ? (fs::path(a) / "history.json").string() : a;
  std::string file_b = folder_b ? (fs::path(b) / "history.json").string() : b;
  return compare_histories(read_history(file_a), read_history(file_b), options);
}

}  // namespace repro
