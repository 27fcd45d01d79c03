// The run.json rows: RunRecord's fields in the order run.json writes them, as the text a reader
// would compare (floats as Python's repr, so equal text means equal bits).
#include "report/run_table.h"

#include <map>
#include <utility>

#include "record/history.h"

namespace repro {
namespace {

// One run's entries as (key, value, timing), in run.json's order.
struct Entry {
  std::string key, value;
  bool timing = false;
};

std::vector<Entry> entries_of(const RunRecord& r) {
  std::vector<Entry> out = {
      {"repro_version", r.repro_version},
      {"config_path", r.config_path},
      {"config_sha256", r.config_sha256},
      {"seed", std::to_string(r.seed)},
      {"rng", r.rng},
      {"backend", r.backend},
      {"device", r.device},
      {"determinism", r.determinism},
      {"threads", std::to_string(r.threads)},
  };
  for (const auto& [key, value] : r.environment) out.push_back({"environment." + key, value});
  for (const auto& [key, value] : r.config) out.push_back({"config." + key, value});
  for (size_t i = 0; i < r.data_files.size(); ++i)
    out.push_back({"data_files." + std::to_string(i), r.data_files[i]});
  for (const EpochRecord& e : r.epochs) {
    const std::string epoch = "epoch " + std::to_string(e.epoch);
    out.push_back({epoch + " weights_sha256", e.weights_sha256});
    out.push_back({epoch + " seconds", python_float_repr(e.seconds), true});
  }
  out.push_back({"weights_sha256", r.weights_sha256});
  out.push_back({"test_loss", r.tested ? python_float_repr(r.test_loss) : "not tested"});
  out.push_back({"test_accuracy", r.tested ? python_float_repr(r.test_accuracy) : "not tested"});
  out.push_back({"completed", r.completed ? "yes" : "no"});
  if (r.stopped)
    out.push_back({"stopped", r.stopped->reason + " at epoch " + std::to_string(r.stopped->epoch) +
                                  ", step " + std::to_string(r.stopped->step)});
  return out;
}

}  // namespace

std::vector<RunTableRow> run_table(const std::vector<const RunRecord*>& runs) {
  std::vector<RunTableRow> rows;
  std::map<std::string, size_t> row_of;
  for (size_t run = 0; run < runs.size(); ++run) {
    if (!runs[run]) continue;
    for (const Entry& entry : entries_of(*runs[run])) {
      auto [it, added] = row_of.emplace(entry.key, rows.size());
      if (added) {
        rows.push_back(RunTableRow{entry.key, std::vector<std::optional<std::string>>(runs.size()),
                                   false, entry.timing});
      }
      rows[it->second].values[run] = entry.value;
    }
  }
  for (RunTableRow& row : rows) {
    const std::optional<std::string>* first = nullptr;
    for (size_t run = 0; run < runs.size(); ++run) {
      if (!runs[run]) continue;
      if (!first)
        first = &row.values[run];
      else if (row.values[run] != *first)
        row.differ = true;
    }
  }
  return rows;
}

}  // namespace repro
