// Checkpoint files: step-<N>.safetensors ("model/<param>" and "optimizer/<param>/<slot>", both in
// Keras layout and shape, e.g. optimizer/conv2d/kernel/momentum is (kh, kw, in, out) like
// model/conv2d/kernel) and step-<N>.json (format, config, loop position, history so far), written
// together (the JSON renamed last: it marks a complete checkpoint). Doubles go through nlohmann's
// round-trip formatting, so the running sums resume with the same bits.
#include "train/checkpoint.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "nn/layers.h"
#include "record/json_text.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "train/trainer.h"

namespace repro {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Format 3: format 2 plus the run id, the initial weights' digest, the backend and the whole
// effective config as YAML (a resume needs no config file). Format 2: optimizer slots in Keras
// layout and shape, Keras's slot names (Adam momentum and velocity, SGD momentum). Format 1
// stored them flat in the backend's order.
constexpr int kFormatVersion = 3;
constexpr int kOldestReadable = 2;
constexpr const char* kFormatPrefix = "repro-checkpoint-";
constexpr int64_t kMaxCheckpointJsonBytes = int64_t{256} << 20;

std::string format_name(int version) { return kFormatPrefix + std::to_string(version); }

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
    if (name.rfind("step-", 0) == 0 && entry.path().extension() == ".json")
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// JSON has no NaN or infinity (nlohmann writes null), yet a run whose loss went NaN must resume
// with the same bits: a non-finite double is stored as its bit pattern, "0x7ff8000000000000".
json exact_number(double value) {
  if (std::isfinite(value)) return value;
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx",
                static_cast<unsigned long long>(std::bit_cast<uint64_t>(value)));
  return text;
}

// The inverse of exact_number; `what` names the entry in the error.
double exact_number_from(const json& v, const std::string& what, const std::string& file) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    uint64_t bits = 0;
    const char* end = text.data() + text.size();
    if (text.size() == 18 && text.rfind("0x", 0) == 0) {
      const auto [ptr, ec] = std::from_chars(text.data() + 2, end, bits, 16);
      const double value = std::bit_cast<double>(bits);
      if (ec == std::errc() && ptr == end && !std::isfinite(value)) return value;
    }
  }
  throw InputError(file + ": \"" + what + "\" must be a number (got " + v.dump() +
                   "); the checkpoint is corrupt, delete it to resume from the one before");
}

}  // namespace

namespace {

// Keras shape of every parameter, by name.
std::map<std::string, std::vector<int64_t>> keras_shapes(Trainer& trainer) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const Parameter* p : trainer.model().parameters()) shapes[p->name] = p->keras_shape;
  return shapes;
}

// "conv2d/kernel/momentum" -> {"conv2d/kernel", "momentum"}.
std::pair<std::string, std::string> split_slot(const std::string& name) {
  const size_t slash = name.rfind('/');
  if (slash == std::string::npos) return {"", name};
  return {name.substr(0, slash), name.substr(slash + 1)};
}

}  // namespace

std::string write_checkpoint(const std::string& run_dir, Trainer& trainer, int keep) {
  const TrainState& state = trainer.state();
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  const std::string stem = step_stem(state.global_step);
  const std::map<std::string, std::vector<int64_t>> shapes = keras_shapes(trainer);

  std::vector<NamedTensor> tensors;
  for (NamedTensor& t : trainer.model().export_weights())
    tensors.push_back(NamedTensor{"model/" + t.name, t.shape, std::move(t.data)});
  for (OptimizerSlot& slot : trainer.optimizer().export_state()) {
    const std::vector<int64_t>& shape = shapes.at(split_slot(slot.name).first);
    tensors.push_back(
        NamedTensor{"optimizer/" + slot.name, shape, backend_to_keras(slot.data, shape)});
  }
  const fs::path tensors_path = folder / (stem + ".safetensors");

  json j;
  j["format"] = format_name(kFormatVersion);
  j["run_id"] = state.run_id;
  j["initial_weights_sha256"] = state.initial_weights_sha256;
  j["backend"] = trainer.backend().name();
  j["config_path"] = trainer.config().path;
  j["config_yaml"] = to_yaml(trainer.config());
  j["config_sha256"] = config_sha256(trainer.config());
  json config = json::object();
  for (const auto& [key, value] : flatten_config(trainer.config())) config[key] = value;
  j["config"] = config;
  j["global_step"] = state.global_step;
  j["epoch"] = state.epoch;
  j["batch"] = state.batch;
  j["loss_sum"] = exact_number(state.loss_sum);
  j["correct"] = state.correct;
  j["seen"] = state.seen;
  j["epoch_seconds"] = exact_number(state.epoch_seconds);
  j["optimizer_iterations"] = trainer.optimizer().iterations();
  json history = json::object();
  for (const auto& [key, values] : state.history) {
    json list = json::array();
    for (const double value : values) list.push_back(exact_number(value));
    history[key] = list;
  }
  j["history"] = history;
  json epochs = json::array();
  for (const EpochRecord& e : state.epochs)
    epochs.push_back({{"epoch", e.epoch},
                      {"seconds", exact_number(e.seconds)},
                      {"weights_sha256", e.weights_sha256}});
  j["epochs"] = epochs;
  json trace = json::array();
  for (const TraceEntry& t : state.trace)
    trace.push_back({{"step", t.step},
                     {"epoch", t.epoch},
                     {"batch", t.batch},
                     {"tensor", t.tensor},
                     {"sha256", t.sha256}});
  j["trace"] = trace;
  json steps = json::array();
  for (const StepRecord& s : state.steps)
    steps.push_back({s.step, s.epoch, s.batch, exact_number(s.accuracy), exact_number(s.loss),
                     exact_number(s.batch_loss), exact_number(s.learning_rate),
                     exact_number(s.wall_seconds)});
  j["steps"] = steps;
  const CallbackState& c = state.callbacks;
  j["callbacks"] = {{"stop_best", exact_number(c.stop_best)},
                    {"stop_wait", c.stop_wait},
                    {"stopped_epoch", c.stopped_epoch},
                    {"best_epoch", c.best_epoch},
                    {"save_best", exact_number(c.save_best)},
                    {"saved_epoch", c.saved_epoch},
                    {"lr_best", exact_number(c.lr_best)},
                    {"lr_wait", c.lr_wait},
                    {"cooldown", c.cooldown},
                    {"learning_rate", c.learning_rate ? json(*c.learning_rate) : json(nullptr)},
                    {"early_stopped", state.early_stopped},
                    {"restored_best", state.restored_best}};
  for (const NamedTensor& t : state.best_weights)
    tensors.push_back(NamedTensor{"best/" + t.name, t.shape, t.data});
  const fs::path json_path = folder / (stem + ".json");
  write_files_atomic(
      {{tensors_path, encode_safetensors(tensors, {{"format", format_name(kFormatVersion)}},
                                         tensors_path.string())},
       {json_path, j.dump(1) + "\n"}});

  // Keep the newest `keep`: remove older JSONs first, so no JSON ever names a missing file; then
  // every tensor file without its JSON (one a killed process wrote before its JSON).
  std::vector<fs::path> all = checkpoint_jsons(folder);
  const size_t keep_count = static_cast<size_t>(std::max(keep, 1));
  std::set<std::string> kept;
  for (size_t i = 0; i < all.size(); ++i) {
    std::error_code error;
    if (i + keep_count < all.size()) {
      fs::remove(all[i], error);
    } else {
      kept.insert(all[i].stem().string());
    }
  }
  std::vector<fs::path> orphans;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const fs::path& path = entry.path();
    if (path.extension() == ".safetensors" && path.filename().string().rfind("step-", 0) == 0 &&
        !kept.count(path.stem().string())) {
      orphans.push_back(path);
    }
  }
  for (const fs::path& path : orphans) fs::remove(path, error);
  return json_path.string();
}

namespace {

// The checkpoint JSON through the readers' bounded parser (nesting, size, values).
json parse_checkpoint_json(const fs::path& path) {
  try {
    return parse_json_bounded(read_file(path, kMaxCheckpointJsonBytes), path.string());
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (not a valid checkpoint; delete it to resume from "
                     "the one before)");
  }
}

// The format's version from "repro-checkpoint-N"; 0 when the text is not of that form.
int format_version(const std::string& text) {
  if (text.rfind(kFormatPrefix, 0) != 0) return 0;
  const std::string digits = text.substr(std::string(kFormatPrefix).size());
  if (digits.empty() || digits.size() > 6 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoi(digits);
}

int check_format(const std::string& found, const std::string& file) {
  const int version = format_version(found);
  if (version >= kOldestReadable && version <= kFormatVersion) return version;
  if (version == 0)
    throw InputError(file + ": unknown checkpoint format '" + found + "'; this repro reads " +
                     format_name(kFormatVersion));
  throw InputError(file + ": checkpoint format " + std::to_string(version) + " was written by " +
                   (version < kFormatVersion ? "an older" : "a newer") +
                   " repro; this one reads formats " + std::to_string(kOldestReadable) + " to " +
                   std::to_string(kFormatVersion) +
                   ". Resume with the repro that wrote it, or start the run again");
}

// A string field, or `fallback` when the key is absent (older formats).
std::string text_field(const json& j, const char* key, const std::string& fallback,
                       const std::string& file) {
  if (!j.contains(key)) return fallback;
  if (!j.at(key).is_string())
    throw InputError(file + ": \"" + key +
                     "\" must be a string; the checkpoint is corrupt, "
                     "delete it to resume from the one before");
  return j.at(key).get<std::string>();
}

// The newest checkpoint's JSON, parsed and its format checked.
std::pair<fs::path, json> newest_checkpoint(const std::string& run_dir) {
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  const std::vector<fs::path> all = checkpoint_jsons(folder);
  if (all.empty())
    throw InputError("--resume " + run_dir + ": no checkpoint in " + folder.string() +
                     "; train with training.checkpoint set (or stop a run with Ctrl-C) first");
  const fs::path json_path = all.back();
  const std::string file = json_path.string();
  json j = parse_checkpoint_json(json_path);
  if (!j.is_object() || !j.contains("format") || !j.at("format").is_string())
    throw InputError(file +
                     ": no \"format\" entry, so not a repro checkpoint; delete it to "
                     "resume from the one before");
  check_format(j.at("format").get<std::string>(), file);
  return {json_path, std::move(j)};
}

// "a, b, c and 4 more": a short list of keys for a one-line error.
std::string key_list(const std::vector<std::string>& keys) {
  constexpr size_t kShown = 5;
  std::string text;
  for (size_t i = 0; i < keys.size() && i < kShown; ++i) text += (i ? ", " : "") + keys[i];
  if (keys.size() > kShown) text += " and " + std::to_string(keys.size() - kShown) + " more";
  return text;
}

// An integer field in [lo, hi]; anything else is a corrupt checkpoint.
int64_t integer_field(const json& j, const char* key, int64_t lo, int64_t hi,
                      const std::string& file) {
  const json& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
    throw InputError(file + ": \"" + key + "\" must be an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi) + " (got " + v.dump() +
                     "); the checkpoint is "
                     "corrupt, delete it to resume from the one before");
  return v.get<int64_t>();
}

}  // namespace

std::string checkpoint_tensors_path(const std::string& run_dir, int64_t step) {
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  const fs::path json = folder / (step_stem(step) + ".json");
  const fs::path tensors = folder / (step_stem(step) + ".safetensors");
  if (fs::exists(json) && fs::exists(tensors)) return tensors.string();
  std::string steps;
  for (const fs::path& p : checkpoint_jsons(folder)) {
    std::string digits = p.stem().string().substr(5);  // step-000000032 -> 32
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    steps += (steps.empty() ? "" : ", ") + digits;
  }
  throw InputError("--checkpoint " + std::to_string(step) + ": " + run_dir +
                   " has no checkpoint of that step (" +
                   (steps.empty() ? std::string("it has none") : "it has steps " + steps) + ")");
}

int64_t newest_checkpoint_step(const std::string& run_dir) {
  const std::vector<fs::path> all = checkpoint_jsons(fs::path(run_dir) / "checkpoints");
  for (auto p = all.rbegin(); p != all.rend(); ++p) {
    const std::string digits = p->stem().string().substr(5);  // step-000000032 -> 32
    if (digits.empty() || digits.size() > 18 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    fs::path tensors = *p;
    tensors.replace_extension(".safetensors");
    if (fs::exists(tensors)) return std::stoll(digits);
  }
  return -1;
}

CheckpointContents read_checkpoint(const std::string& run_dir, int64_t step) {
  const std::string tensors_file = checkpoint_tensors_path(run_dir, step);
  const fs::path json_path = fs::path(tensors_file).replace_extension(".json");
  const std::string file = json_path.string();
  const json j = parse_checkpoint_json(json_path);
  if (!j.is_object() || !j.contains("format") || !j.at("format").is_string())
    throw InputError(file + ": no \"format\" entry, so not a repro checkpoint");
  check_format(j.at("format").get<std::string>(), file);
  CheckpointContents contents;
  contents.step = step;
  contents.optimizer_iterations = integer_field(j, "optimizer_iterations", 0, INT64_MAX, file);
  if (j.contains("callbacks") && j.at("callbacks").is_object() &&
      j.at("callbacks").contains("learning_rate") &&
      !j.at("callbacks").at("learning_rate").is_null())
    contents.learning_rate = static_cast<float>(
        exact_number_from(j.at("callbacks").at("learning_rate"), "learning_rate", file));
  for (NamedTensor& t : read_safetensors(tensors_file)) {
    if (t.name.rfind("model/", 0) == 0)
      contents.weights.push_back(NamedTensor{t.name.substr(6), t.shape, std::move(t.data)});
    else if (t.name.rfind("optimizer/", 0) == 0)
      contents.optimizer_slots.push_back(
          NamedTensor{t.name.substr(10), t.shape, std::move(t.data)});
  }
  return contents;
}

CheckpointHeader read_checkpoint_header(const std::string& run_dir) {
  const auto [json_path, j] = newest_checkpoint(run_dir);
  const std::string file = json_path.string();
  CheckpointHeader header;
  header.path = file;
  header.run_id = text_field(j, "run_id", "", file);
  header.config_yaml = text_field(j, "config_yaml", "", file);
  header.config_path = text_field(j, "config_path", "", file);
  header.backend = text_field(j, "backend", "", file);
  return header;
}

std::string restore_latest_checkpoint(const std::string& run_dir, Trainer& trainer) {
  const auto [json_path, j] = newest_checkpoint(run_dir);
  const std::string file = json_path.string();
  try {
    // The same run: every key that changes results must match (threads, epochs and the
    // checkpoint, log and trace intervals may change).
    std::vector<std::string> differing;
    const json& saved = j.at("config");
    if (!saved.is_object()) throw InputError(file + ": \"config\" must be an object");
    json current = json::object();
    for (const auto& [key, value] : flatten_config(trainer.config())) current[key] = value;
    for (const auto& [key, value] : current.items())
      if (key_changes_results(key) && (!saved.contains(key) || saved.at(key) != value))
        differing.push_back(key);
    for (const auto& [key, value] : saved.items())
      if (key_changes_results(key) && !current.contains(key)) differing.push_back(key);
    if (!differing.empty()) {
      const std::string& key = differing.front();
      const std::string was = saved.contains(key) ? saved.at(key).get<std::string>() : "(absent)";
      const std::string now =
          current.contains(key) ? current.at(key).get<std::string>() : "(absent)";
      throw InputError("--resume " + run_dir + ": the config differs from the checkpoint's in " +
                       std::to_string(differing.size()) + " key(s) that change results (" +
                       key_list(differing) + "; " + clipped(key, 60) + " was " + clipped(was, 40) +
                       ", now " + clipped(now, 40) +
                       "); resume without a config (the checkpoint "
                       "holds it), or start a new run with a new --out");
    }
    const std::string backend = text_field(j, "backend", "", file);
    if (!backend.empty() && backend != trainer.backend().name())
      throw InputError("--resume " + run_dir + ": the checkpoint was trained on the " + backend +
                       " backend, this run would use " + trainer.backend().name() +
                       "; resume with --backend " + backend + " (or without --backend)");
    // A run folder holds one run: a run.json beside the checkpoints must name the same run.
    const std::string run_id = text_field(j, "run_id", "", file);
    const fs::path run_json = fs::path(run_dir) / "run.json";
    if (!run_id.empty() && fs::exists(run_json)) {
      const RunRecord record = read_run_record(run_json.string());
      if (!record.run_id.empty() && record.run_id != run_id)
        throw InputError("--resume " + run_dir + ": " + file + " belongs to run " + run_id +
                         " but run.json to run " + record.run_id +
                         "; the folder mixes two runs: "
                         "train anew with --overwrite or a new --out");
    }

    const fs::path tensors_path = fs::path(json_path).replace_extension(".safetensors");
    const std::string tensors_file = tensors_path.string();
    std::map<std::string, std::string> metadata;
    std::vector<NamedTensor> tensors = read_safetensors(tensors_file, &metadata);
    const auto format = metadata.find("format");
    if (format == metadata.end())
      throw InputError(tensors_file + ": no format in its metadata, so not a repro checkpoint");
    check_format(format->second, tensors_file);

    const std::map<std::string, std::vector<int64_t>> shapes = keras_shapes(trainer);
    std::vector<NamedTensor> weights, best_weights;
    std::vector<OptimizerSlot> slots;
    for (NamedTensor& t : tensors) {
      if (t.name.rfind("best/", 0) == 0) {
        best_weights.push_back(NamedTensor{t.name.substr(5), t.shape, std::move(t.data)});
      } else if (t.name.rfind("model/", 0) == 0) {
        weights.push_back(NamedTensor{t.name.substr(6), t.shape, std::move(t.data)});
      } else if (t.name.rfind("optimizer/", 0) == 0) {
        const std::string slot = t.name.substr(10);
        const auto shape = shapes.find(split_slot(slot).first);
        if (shape == shapes.end() || shape->second != t.shape)
          throw InputError(tensors_file + ": optimizer state '" + slot +
                           "' matches no parameter of this model in name and Keras shape");
        slots.push_back(OptimizerSlot{slot, keras_to_backend(t.data, t.shape)});
      }
    }
    if (weights.size() != trainer.model().weights().size())
      throw InputError(tensors_file + ": holds " + std::to_string(weights.size()) +
                       " weight tensors, the model has " +
                       std::to_string(trainer.model().weights().size()) + " weights");
    try {
      trainer.model().import_weights(weights);
      trainer.optimizer().import_state(
          slots, integer_field(j, "optimizer_iterations", 0, INT64_MAX, file));
    } catch (const InputError& e) {
      throw InputError(tensors_file + ": " + e.what());
    }

    const int epochs = trainer.config().training.epochs;
    TrainState state;
    state.run_id = text_field(j, "run_id", trainer.state().run_id, file);
    state.initial_weights_sha256 =
        text_field(j, "initial_weights_sha256", trainer.state().initial_weights_sha256, file);
    state.global_step = integer_field(j, "global_step", 0, INT64_MAX, file);
    state.epoch = static_cast<int>(integer_field(j, "epoch", 0, limits::epochs, file));
    state.batch = integer_field(j, "batch", 0, INT64_MAX, file);
    state.seen = integer_field(j, "seen", 0, INT64_MAX, file);
    state.correct = integer_field(j, "correct", 0, state.seen, file);
    state.loss_sum = exact_number_from(j.at("loss_sum"), "loss_sum", file);
    state.epoch_seconds = exact_number_from(j.at("epoch_seconds"), "epoch_seconds", file);
    for (const auto& [key, values] : j.at("history").items()) {
      std::vector<double>& list = state.history[key];
      for (const json& value : values) list.push_back(exact_number_from(value, "history", file));
    }
    for (const json& e : j.at("epochs"))
      state.epochs.push_back(EpochRecord{e.at("epoch").get<int>(),
                                         exact_number_from(e.at("seconds"), "seconds", file),
                                         e.at("weights_sha256").get<std::string>()});
    for (const json& t : j.at("trace"))
      state.trace.push_back(TraceEntry{
          t.at("step").get<int64_t>(), t.at("epoch").get<int>(), t.at("batch").get<int64_t>(),
          t.at("tensor").get<std::string>(), t.at("sha256").get<std::string>()});
    // steps.csv rows; a checkpoint without them (written before training.log existed) has none.
    if (j.contains("steps")) {
      for (const json& s : j.at("steps")) {
        if (!s.is_array() || s.size() != 8)
          throw InputError(file +
                           ": a \"steps\" row must hold 8 values; the checkpoint is "
                           "corrupt, delete it to resume from the one before");
        auto value = [&](size_t i) { return exact_number_from(s[i], "steps", file); };
        state.steps.push_back(StepRecord{s[0].get<int64_t>(), s[1].get<int>(), s[2].get<int64_t>(),
                                         static_cast<float>(value(3)), static_cast<float>(value(4)),
                                         static_cast<float>(value(5)), static_cast<float>(value(6)),
                                         value(7)});
      }
    }
    state.best_weights = std::move(best_weights);
    // The Keras callbacks' state; a checkpoint without it (written before them) has the defaults.
    if (j.contains("callbacks")) {
      const json& c = j.at("callbacks");
      CallbackState& s = state.callbacks;
      s.stop_best = exact_number_from(c.at("stop_best"), "stop_best", file);
      s.stop_wait = integer_field(c, "stop_wait", 0, INT64_MAX, file);
      s.stopped_epoch = integer_field(c, "stopped_epoch", -1, limits::epochs, file);
      s.best_epoch = integer_field(c, "best_epoch", -1, limits::epochs, file);
      s.save_best = exact_number_from(c.at("save_best"), "save_best", file);
      s.saved_epoch = integer_field(c, "saved_epoch", -1, limits::epochs, file);
      s.lr_best = exact_number_from(c.at("lr_best"), "lr_best", file);
      s.lr_wait = integer_field(c, "lr_wait", 0, INT64_MAX, file);
      s.cooldown = integer_field(c, "cooldown", 0, INT64_MAX, file);
      if (!c.at("learning_rate").is_null())
        s.learning_rate =
            static_cast<float>(exact_number_from(c.at("learning_rate"), "learning_rate", file));
      state.early_stopped = c.at("early_stopped").get<bool>();
      state.restored_best = c.at("restored_best").get<bool>();
    }
    if (state.callbacks.learning_rate)
      trainer.optimizer().set_learning_rate(*state.callbacks.learning_rate);
    if (state.epoch > epochs)
      throw InputError("--resume " + run_dir + ": the checkpoint has finished " +
                       std::to_string(state.epoch) + " epochs but training.epochs is " +
                       std::to_string(epochs) + "; raise it with --epochs to go on");
    trainer.state() = state;
  } catch (const json::exception& e) {
    throw InputError(file + ": not a valid checkpoint (" + e.what() +
                     "); delete it to resume from the one before");
  }
  return file;
}

}  // namespace repro
