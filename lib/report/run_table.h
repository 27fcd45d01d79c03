// run.json of several runs side by side: one row per entry (seed, threads, environment.*,
// config.*, per-epoch weight digests and times, ...) with a value per run and whether they
// differ. Rows only: the page draws them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "record/run_record.h"

namespace repro {

struct RunTableRow {
  std::string key;  // "seed", "environment.cpu_isa", "epoch 2 seconds"
  std::vector<std::optional<std::string>> values;  // one per run; nullopt: absent in that run.json
  bool differ = false;  // the runs that have a run.json disagree (absent counts as a value)
  bool timing = false;  // a wall time, which differs between any two runs by nature
};

// `runs` holds one entry per run, nullptr for a run without run.json (its column is empty and
// takes no part in `differ`). Rows keep the order of the first run that has each key.
std::vector<RunTableRow> run_table(const std::vector<const RunRecord*>& runs);

}  // namespace repro
