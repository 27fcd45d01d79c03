// Checkpoint files: step-<N>.safetensors ("model/<param>" in Keras layout, "optimizer/<slot>"
// flat) and step-<N>.json (format, config, loop position, history so far). Doubles go through
// nlohmann's round-trip formatting, so the running sums resume with the same bits.
#include "train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "record/safetensors.h"
#include "train/trainer.h"

namespace repro {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "repro-checkpoint-1";

std::string step_stem(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "step-%09lld", static_cast<long long>(step));
  return name;
}

// The checkpoint JSON files in the folder, oldest first (the zero-padded step sorts by name).
std::vector<fs::path> checkpoint_jsons(const fs::path& folder) {
  std::vector<fs::path> out;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return out;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && entry.path().extension() == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string write_checkpoint(const std::string& run_dir, Trainer& trainer, int keep) {
  const TrainState& state = trainer.state();
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  const std::string stem = step_stem(state.global_step);

  std::vector<NamedTensor> tensors;
  for (HostTensor& t : trainer.model().export_weights())
    tensors.push_back(NamedTensor{"model/" + t.name, t.shape, std::move(t.data)});
  for (OptimizerSlot& slot : trainer.optimizer().export_state()) {
    const int64_t n = static_cast<int64_t>(slot.data.size());
    tensors.push_back(NamedTensor{"optimizer/" + slot.name, {n}, std::move(slot.data)});
  }
  write_safetensors((folder / (stem + ".safetensors")).string(), tensors);

  json j;
  j["format"] = kFormat;
  j["config_sha256"] = config_sha256(trainer.config());
  json config = json::object();
  for (const auto& [key, value] : flatten_config(trainer.config())) config[key] = value;
  j["config"] = config;
  j["global_step"] = state.global_step;
  j["epoch"] = state.epoch;
  j["batch"] = state.batch;
  j["loss_sum"] = state.loss_sum;
  j["correct"] = state.correct;
  j["seen"] = state.seen;
  j["epoch_seconds"] = state.epoch_seconds;
  j["optimizer_iterations"] = trainer.optimizer().iterations();
  j["history"] = state.history;
  json epochs = json::array();
  for (const EpochRecord& e : state.epochs)
    epochs.push_back({{"epoch", e.epoch}, {"seconds", e.seconds}, {"weights_sha256", e.weights_sha256}});
  j["epochs"] = epochs;
  json trace = json::array();
  for (const TraceEntry& t : state.trace)
    trace.push_back({{"step", t.step}, {"epoch", t.epoch}, {"batch", t.batch}, {"tensor", t.tensor},
                     {"sha256", t.sha256}});
  j["trace"] = trace;
  const fs::path json_path = folder / (stem + ".json");
  write_file_atomic(json_path, j.dump(1) + "\n");

  // Keep the newest `keep`: remove older JSONs first, so no JSON ever names a missing file.
  std::vector<fs::path> all = checkpoint_jsons(folder);
  const size_t keep_count = static_cast<size_t>(std::max(keep, 1));
  for (size_t i = 0; i + keep_count < all.size(); ++i) {
    std::error_code error;
    fs::remove(all[i], error);
    fs::path tensors_path = all[i];
    fs::remove(tensors_path.replace_extension(".safetensors"), error);
  }
  return json_path.string();
}

std::string restore_latest_checkpoint(const std::string& run_dir, Trainer& trainer) {
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  const std::vector<fs::path> all = checkpoint_jsons(folder);
  if (all.empty())
    throw InputError("--resume " + run_dir + ": no checkpoint in " + folder.string() +
                     "; train with training.checkpoint set (or stop a run with Ctrl-C) first");
  const fs::path json_path = all.back();
  json j;
  try {
    j = json::parse(read_file(json_path));
  } catch (const json::exception& e) {
    throw InputError(json_path.string() + ": not a valid checkpoint (" + e.what() + ")");
  }
  try {
    if (j.at("format").get<std::string>() != kFormat)
      throw InputError(json_path.string() + ": unknown checkpoint format '" +
                       j.at("format").get<std::string>() + "'");
    // The config must be the same run: only the number of epochs may change.
    std::vector<std::string> differing;
    const json& saved = j.at("config");
    json current = json::object();
    for (const auto& [key, value] : flatten_config(trainer.config())) current[key] = value;
    for (const auto& [key, value] : current.items())
      if (key != "training.epochs" && (!saved.contains(key) || saved.at(key) != value))
        differing.push_back(key);
    for (const auto& [key, value] : saved.items())
      if (!current.contains(key)) differing.push_back(key);
    if (!differing.empty()) {
      std::string keys;
      for (const std::string& key : differing) keys += (keys.empty() ? "" : ", ") + key;
      throw InputError("--resume " + run_dir + ": the config differs from the checkpoint's in " +
                       keys + "; resume with the same config (only training.epochs may change)");
    }

    const fs::path tensors_path = fs::path(json_path).replace_extension(".safetensors");
    std::vector<HostTensor> weights;
    std::vector<OptimizerSlot> slots;
    for (NamedTensor& t : read_safetensors(tensors_path.string())) {
      if (t.name.rfind("model/", 0) == 0) {
        weights.push_back(HostTensor{t.name.substr(6), t.shape, std::move(t.data)});
      } else if (t.name.rfind("optimizer/", 0) == 0) {
        slots.push_back(OptimizerSlot{t.name.substr(10), std::move(t.data)});
      }
    }
    trainer.model().import_weights(weights);
    trainer.optimizer().import_state(slots, j.at("optimizer_iterations").get<int64_t>());

    TrainState state;
    state.global_step = j.at("global_step").get<int64_t>();
    state.epoch = j.at("epoch").get<int>();
    state.batch = j.at("batch").get<int64_t>();
    state.loss_sum = j.at("loss_sum").get<double>();
    state.correct = j.at("correct").get<int64_t>();
    state.seen = j.at("seen").get<int64_t>();
    state.epoch_seconds = j.at("epoch_seconds").get<double>();
    state.history = j.at("history").get<History>();
    for (const json& e : j.at("epochs"))
      state.epochs.push_back(EpochRecord{e.at("epoch").get<int>(), e.at("seconds").get<double>(),
                                         e.at("weights_sha256").get<std::string>()});
    for (const json& t : j.at("trace"))
      state.trace.push_back(TraceEntry{t.at("step").get<int64_t>(), t.at("epoch").get<int>(),
                                       t.at("batch").get<int64_t>(),
                                       t.at("tensor").get<std::string>(),
                                       t.at("sha256").get<std::string>()});
    trainer.state() = state;
  } catch (const json::exception& e) {
    throw InputError(json_path.string() + ": not a valid checkpoint (" + e.what() + ")");
  }
  return json_path.string();
}

}  // namespace repro
