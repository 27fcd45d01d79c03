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
#include <system_error>

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

// The content digests of run.json's data_files ("PATH (sha256 HEX...)" or "(folder sha256 HEX"),
// in order, short; "" when an entry records none (older runs, the IDX files of older releases).
std::string data_digests(const std::vector<std::string>& files) {
  std::string digests;
  for (const std::string& f : files) {
    const size_t at = f.rfind("sha256 ");
    if (at == std::string::npos || f.size() < at + 7 + 64) return "";
    digests += (digests.empty() ? "" : " ") + f.substr(at + 7, 12);
  }
  return digests;
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
  for (const std::string& key : keys) {
    if (a.count(key) || b.count(key)) continue;
    std::string known;
    std::set<std::string> all;
    for (const auto& [k, v] : a) all.insert(k);
    for (const auto& [k, v] : b) all.insert(k);
    for (const std::string& k : all) known += (known.empty() ? "" : ", ") + k;
    throw InputError(
        "--keys " + key + ": no such key in A or B (" +
        (known.empty() ? std::string("both histories are empty") : "their keys: " + known) +
        "); name keys the histories hold, or drop --keys");
  }
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
    report.values_compared += row.compared;
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
  if (divergence.step == 0) return "before step 1 (initial weights differ: " + tensor + ")";
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
  report.initial_weights_differ = !a.initial_weights_sha256.empty() &&
                                  !b.initial_weights_sha256.empty() &&
                                  a.initial_weights_sha256 != b.initial_weights_sha256;

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
  // The data's content, not its paths: the same files elsewhere are the same data.
  const std::string data_a = data_digests(a.data_files), data_b = data_digests(b.data_files);
  if (!data_a.empty() && !data_b.empty()) add_difference(env, "data (sha256)", data_a, data_b);

  // Between two portable runs, the CPU, its architecture and ISA path, the operating system,
  // the compiler and the thread count cannot change a bit (scripts/cross_check.sh checks the
  // architectures): they are not offered as causes, only named in a note.
  if (a.determinism == "portable" && b.determinism == "portable") {
    const std::set<std::string> cannot = {"threads",
                                          "config.threads",
                                          "environment.architecture",
                                          "environment.os",
                                          "environment.cpu_isa",
                                          "environment.cpu_model",
                                          "environment.compiler",
                                          "environment.cores",
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
      report.notes.push_back(
          "determinism: portable in both runs, so these differences cannot "
          "explain a result: " +
          ruled_out);
  }
}

namespace {

namespace fs = std::filesystem;

// A file of the folder checked against run.json's record of it: appends to `changed` when its
// digest differs. False when run.json (older releases) records no digest for it.
bool check_file(RunFolder& run, const std::string& name) {
  const auto recorded = run.run.files.find(name);
  if (recorded == run.run.files.end()) return false;
  const std::string actual = sha256_file((fs::path(run.path) / name).string());
  if (actual != recorded->second)
    run.changed.push_back(name + " changed after the run (SHA-256 " + actual.substr(0, 12) +
                          ", run.json recorded " + recorded->second.substr(0, 12) + ")");
  return true;
}

// The weights model.safetensors should hold by run.json: the recorded final digest, or in
// run.json files of releases before 0.2, the last epoch's digest of a run that finished.
std::string recorded_final_weights(const RunRecord& run) {
  if (!run.weights_sha256.empty()) return run.weights_sha256;
  if (run.completed && !run.epochs.empty()) return run.epochs.back().weights_sha256;
  return "";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "a scalar" : text;
}

// The layer kinds in model order, from run.json's flattened config ("model.3.dense.units").
std::vector<std::string> layer_kinds(const RunRecord& run) {
  std::map<long, std::string> kinds;
  for (const auto& [key, value] : run.config) {
    if (key.rfind("model.", 0) != 0) continue;
    const size_t dot = key.find('.', 6);
    if (dot == std::string::npos) continue;
    const std::string index = key.substr(6, dot - 6);
    if (index.empty() || index.size() > 6 ||
        index.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const size_t end = key.find('.', dot + 1);
    kinds[std::stol(index)] = key.substr(dot + 1, end == std::string::npos ? end : end - dot - 1);
  }
  std::vector<std::string> out;
  for (const auto& [index, kind] : kinds) out.push_back(kind);
  return out;
}

}  // namespace

std::string architecture_difference(const RunFolder& a, const RunFolder& b) {
  const std::vector<std::string> la = layer_kinds(a.run), lb = layer_kinds(b.run);
  const std::string counts =
      " (A has " + std::to_string(la.size()) + " layers, B " + std::to_string(lb.size()) + ")";
  for (size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    if (i < la.size() && i < lb.size() && la[i] == lb[i]) continue;
    return "layer " + std::to_string(i) + " is " + (i < la.size() ? la[i] : "absent") + " in A, " +
           (i < lb.size() ? lb[i] : "absent") + " in B" + counts;
  }
  for (size_t i = 0; i < std::max(a.weights.size(), b.weights.size()); ++i) {
    if (i >= a.weights.size()) return "weight " + b.weights[i].name + " is only in B";
    if (i >= b.weights.size()) return "weight " + a.weights[i].name + " is only in A";
    const NamedTensor &ta = a.weights[i], &tb = b.weights[i];
    if (ta.name != tb.name)
      return "weight " + std::to_string(i + 1) + " is " + ta.name + " in A, " + tb.name + " in B";
    if (ta.shape != tb.shape)
      return "weight " + ta.name + " is " + shape_text(ta.shape) + " in A, " +
             shape_text(tb.shape) + " in B";
  }
  return "";
}

RunFolder read_run_folder(const std::string& folder) {
  const fs::path path(folder);
  std::error_code error;
  if (!fs::is_directory(path, error))
    throw InputError(folder +
                     ": not a folder; give a run folder (the --out of repro train) or a "
                     "history.json file");
  if (!fs::exists(path / "run.json"))
    throw InputError(folder +
                     ": not a run folder (no run.json); a run still training has none "
                     "yet, a killed one can go on with repro train --resume " +
                     folder);
  RunFolder run;
  run.path = folder;
  run.run = read_run_record((path / "run.json").string());
  for (const char* name : {"history.json", "model.safetensors"}) {
    if (!fs::exists(path / name))
      throw InputError((path / name).string() + ": missing from the run folder " + folder +
                       "; run.json names a run whose files are gone: train it again");
  }
  const bool recorded = !run.run.files.empty();
  if (!recorded)
    run.notes.push_back(folder + "/run.json records no file digests (repro " +
                        run.run.repro_version + "): its files were not checked against it");
  check_file(run, "history.json");
  run.history = read_history((path / "history.json").string());
  run.weights = read_safetensors((path / "model.safetensors").string());
  const std::string expected = recorded_final_weights(run.run);
  const std::string actual = weights_sha256(run.weights);
  if (!expected.empty() && actual != expected)
    run.changed.push_back("model.safetensors changed after the run (its weights' SHA-256 " +
                          actual.substr(0, 12) + ", run.json recorded " + expected.substr(0, 12) +
                          ")");
  else
    check_file(run, "model.safetensors");
  if (fs::exists(path / "trace.jsonl")) {
    if (!recorded || check_file(run, "trace.jsonl"))
      run.trace = read_trace((path / "trace.jsonl").string());
    else
      run.notes.push_back(folder +
                          "/trace.jsonl is not this run's (run.json lists no trace): "
                          "not read");
  }
  return run;
}

namespace {

WeightsComparison compare_weights(const std::vector<NamedTensor>& a,
                                  const std::vector<NamedTensor>& b,
                                  const CompareOptions& options) {
  WeightsComparison w;
  w.compared = true;
  w.sha256_a = weights_sha256(a);
  w.sha256_b = weights_sha256(b);
  for (size_t t = 0; t < a.size() && t < b.size(); ++t) {
    for (size_t i = 0; i < a[t].data.size() && i < b[t].data.size(); ++i) {
      const double va = a[t].data[i], vb = b[t].data[i];
      ++w.values;
      // Over every value whose bits differ, so "allclose, not bit-identical" shows how far apart.
      if (!std::isnan(va) && !std::isnan(vb) && va != vb)
        w.max_abs_diff = std::max(w.max_abs_diff, std::fabs(va - vb));
      if (values_match(va, vb, options)) continue;
      ++w.differing;
      if (w.first_tensor.empty()) w.first_tensor = a[t].name;
    }
  }
  w.same = w.differing == 0;
  return w;
}

}  // namespace

CompareReport compare_run_folders(const RunFolder& a, const RunFolder& b,
                                  const CompareOptions& options) {
  CompareReport report = compare_histories(a.history, b.history, options);
  for (const std::string& c : a.changed) report.changed.push_back("A: " + c);
  for (const std::string& c : b.changed) report.changed.push_back("B: " + c);
  report.architecture_difference = architecture_difference(a, b);
  if (report.architecture_difference.empty())
    report.weights = compare_weights(a.weights, b.weights, options);
  compare_run_records(a.run, b.run, options, report);
  for (const std::string& note : a.notes) report.notes.push_back(note);
  for (const std::string& note : b.notes) report.notes.push_back(note);
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
  if (!report.architecture_difference.empty() || !report.weights.same || !report.changed.empty())
    report.same = false;
  return report;
}

CompareReport compare_runs(const std::string& folder_a, const std::string& folder_b,
                           const CompareOptions& options) {
  return compare_run_folders(read_run_folder(folder_a), read_run_folder(folder_b), options);
}

CompareReport compare_paths(const std::string& a, const std::string& b,
                            const CompareOptions& options) {
  for (const std::string& path : {a, b}) {
    if (!fs::exists(path))
      throw InputError(path + ": no such file or folder; give a history.json or a run folder");
  }
  const bool folder_a = fs::is_directory(a), folder_b = fs::is_directory(b);
  if (folder_a && folder_b) return compare_runs(a, b, options);
  // A folder against a file: the folder's history, checked against its run.json.
  std::vector<std::string> changed;
  auto history_of = [&](const std::string& path, bool folder, const char* side) {
    if (!folder) return read_history(path);
    RunFolder run = read_run_folder(path);
    for (const std::string& c : run.changed) changed.push_back(std::string(side) + ": " + c);
    return run.history;
  };
  const History ha = history_of(a, folder_a, "A");
  const History hb = history_of(b, folder_b, "B");
  CompareReport report = compare_histories(ha, hb, options);
  if (report.values_compared == 0 && report.histories_same) {
    throw InputError(
        "nothing to compare: " +
        std::string(ha.empty() && hb.empty() ? "both histories are empty"
                                             : "the keys hold no values") +
        " (a run stopped before its first epoch ended records none); compare the run folders "
        "instead, which compares their final weights: repro compare RUN_A RUN_B");
  }
  report.changed = changed;
  if (!changed.empty()) report.same = false;
  return report;
}

}  // namespace repro
