// run.json writer and reader. Floats are written round-trip exact (nlohmann's shortest form);
// a non-finite float is written as null and read back as NaN.
#include "record/run_record.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "record/json_text.h"

namespace repro {
namespace {

using Json = nlohmann::ordered_json;

Json float_json(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

// Reads the fields of one object with the file and place in every error.
class FieldReader {
 public:
  FieldReader(const ParsedJson& json, const Json& object, std::string pointer)
      : json_(json), object_(object), pointer_(std::move(pointer)) {
    if (!object_.is_object()) fail(pointer_, "expected an object");
  }
  const Json& get(const std::string& key, bool (Json::*is_type)() const noexcept,
                  const char* type) const {
    std::string pointer = json_pointer_child(pointer_, key);
    auto it = object_.find(key);
    if (it == object_.end())
      fail(pointer_, "missing key \"" + key + "\"; is this a run.json written by repro?");
    if (!((*it).*is_type)())
      fail(pointer, "\"" + key + "\" must be " + type + ", not " + it->type_name());
    return *it;
  }
  std::string text(const std::string& key) const {
    return get(key, &Json::is_string, "a string").get<std::string>();
  }
  int64_t integer(const std::string& key) const {
    return get(key, &Json::is_number_integer, "an integer").get<int64_t>();
  }
  bool flag(const std::string& key) const {
    return get(key, &Json::is_boolean, "true or false").get<bool>();
  }
  double number(const std::string& key) const {
    auto it = object_.find(key);
    if (it != object_.end() && it->is_null()) return std::numeric_limits<double>::quiet_NaN();
    return get(key, &Json::is_number, "a number").get<double>();
  }
  const Json& object(const std::string& key) const {
    return get(key, &Json::is_object, "an object");
  }
  const Json& list(const std::string& key) const { return get(key, &Json::is_array, "a list"); }
  std::string pointer(const std::string& key) const { return json_pointer_child(pointer_, key); }
  [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
    throw InputError(json_error_at(json_, pointer, message));
  }

 private:
  const ParsedJson& json_;
  const Json& object_;
  std::string pointer_;
};

// A JSON object of string values, in file order.
std::vector<std::pair<std::string, std::string>> string_pairs(const FieldReader& reader,
                                                              const std::string& key) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, value] : reader.object(key).items()) {
    if (!value.is_string())
      reader.fail(json_pointer_child(reader.pointer(key), name),
                  quoted_name(name) + " must be a string");
    pairs.emplace_back(name, value.get<std::string>());
  }
  return pairs;
}

}  // namespace

std::string run_record_to_json(const RunRecord& record) {
  Json config = Json::object();
  for (const auto& [key, value] : record.config) config[key] = value;
  Json environment = Json::object();
  for (const auto& [key, value] : record.environment) environment[key] = value;
  Json epochs = Json::array();
  for (const EpochRecord& epoch : record.epochs) {
    epochs.push_back({{"epoch", epoch.epoch},
                      {"seconds", float_json(epoch.seconds)},
                      {"weights_sha256", epoch.weights_sha256}});
  }
  Json files = Json::object();
  for (const auto& [name, sha] : record.files) files[name] = sha;
  Json stopped = nullptr;
  if (record.stopped)
    stopped = {{"reason", record.stopped->reason},
               {"epoch", record.stopped->epoch},
               {"batch", record.stopped->batch},
               {"step", record.stopped->step}};
  Json json = {{"repro_version", record.repro_version},
               {"run_id", record.run_id},
               {"completed", record.completed},
               {"stopped", stopped},
               {"early_stopping",
                record.early_stopping
                    ? Json{{"stopped_epoch", record.early_stopping->stopped_epoch
                                                 ? Json(record.early_stopping->stopped_epoch)
                                                 : Json(nullptr)},
                           {"best_epoch", record.early_stopping->best_epoch},
                           {"best", float_json(record.early_stopping->best)},
                           {"restored_best_weights", record.early_stopping->restored}}
                    : Json(nullptr)},
               {"best_checkpoint_epoch",
                record.best_checkpoint_epoch ? Json(*record.best_checkpoint_epoch) : Json(nullptr)},
               {"config_path", record.config_path},
               {"config_sha256", record.config_sha256},
               {"seed", record.seed},
               {"rng", record.rng},
               {"backend", record.backend},
               {"device", record.device},
               {"determinism", record.determinism},
               {"threads", record.threads},
               {"ranks", record.ranks},
               {"hosts", record.hosts},
               {"rank_threads", record.rank_threads},
               {"environment", environment},
               {"data_files", record.data_files},
               {"epochs", epochs},
               {"initial_weights_sha256", record.initial_weights_sha256},
               {"weights_sha256", record.weights_sha256},
               {"files", files},
               {"tested", record.tested},
               {"test_loss", record.tested ? float_json(record.test_loss) : Json(nullptr)},
               {"test_accuracy", record.tested ? float_json(record.test_accuracy) : Json(nullptr)},
               {"config", config},
               {"config_yaml", record.config_yaml}};
  return json.dump(2) + "\n";
}

void write_run_record(const std::string& path, const RunRecord& record) {
  write_file_atomic(path, run_record_to_json(record));
}

RunRecord read_run_record(const std::string& path) {
  return parse_run_record(read_file(path, kMaxRecordFileBytes), path);
}

RunRecord parse_run_record(const std::string& json_text, const std::string& file_label) {
  ParsedJson json = parse_json_text(json_text, file_label);
  FieldReader root(json, json.value, "");
  RunRecord record;
  record.repro_version = root.text("repro_version");
  record.completed = root.flag("completed");
  record.config_path = root.text("config_path");
  record.config_sha256 = root.text("config_sha256");
  record.seed = root.integer("seed");
  record.rng = root.text("rng");
  record.backend = root.text("backend");
  record.device = root.text("device");
  // Older run.json files (before determinism: portable) hold true or false.
  const Json& determinism = root.get("determinism", &Json::is_primitive, "on, off or portable");
  if (determinism.is_boolean())
    record.determinism = determinism.get<bool>() ? "on" : "off";
  else
    record.determinism = root.text("determinism");
  record.threads = static_cast<int>(root.integer("threads"));
  // Run folders of releases before ranks have no "ranks": one process.
  if (json.value.contains("ranks")) record.ranks = static_cast<int>(root.integer("ranks"));
  for (auto& [key, value] : string_pairs(root, "environment")) record.environment[key] = value;
  const Json& files = root.list("data_files");
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].is_string())
      root.fail(root.pointer("data_files") + "/" + std::to_string(i),
                "data file names must be strings");
    record.data_files.push_back(files[i].get<std::string>());
  }
  const Json& epochs = root.list("epochs");
  for (size_t i = 0; i < epochs.size(); ++i) {
    FieldReader epoch(json, epochs[i], root.pointer("epochs") + "/" + std::to_string(i));
    record.epochs.push_back({static_cast<int>(epoch.integer("epoch")), epoch.number("seconds"),
                             epoch.text("weights_sha256")});
  }
  // Run folders of releases before 0.2 have no run id, digests, file list, "tested" or "stopped".
  if (json.value.contains("run_id")) record.run_id = root.text("run_id");
  if (json.value.contains("initial_weights_sha256"))
    record.initial_weights_sha256 = root.text("initial_weights_sha256");
  if (json.value.contains("weights_sha256")) record.weights_sha256 = root.text("weights_sha256");
  if (json.value.contains("files"))
    for (auto& [name, sha] : string_pairs(root, "files")) record.files[name] = sha;
  record.tested = json.value.contains("tested") ? root.flag("tested") : record.completed;
  if (record.tested) {
    record.test_loss = root.number("test_loss");
    record.test_accuracy = root.number("test_accuracy");
  }
  if (json.value.contains("stopped") && !json.value.at("stopped").is_null()) {
    FieldReader stop(json, json.value.at("stopped"), root.pointer("stopped"));
    StopRecord s;
    s.reason = stop.text("reason");
    s.epoch = static_cast<int>(stop.integer("epoch"));
    s.batch = stop.integer("batch");
    s.step = stop.integer("step");
    record.stopped = s;
  }
  if (json.value.contains("early_stopping") && !json.value.at("early_stopping").is_null()) {
    FieldReader e(json, json.value.at("early_stopping"), root.pointer("early_stopping"));
    EarlyStoppingRecord r;
    const Json& stopped = json.value.at("early_stopping").at("stopped_epoch");
    r.stopped_epoch = stopped.is_null() ? 0 : e.integer("stopped_epoch");
    r.best_epoch = e.integer("best_epoch");
    r.best = e.number("best");
    r.restored = e.flag("restored_best_weights");
    record.early_stopping = r;
  }
  if (json.value.contains("best_checkpoint_epoch") &&
      !json.value.at("best_checkpoint_epoch").is_null())
    record.best_checkpoint_epoch = root.integer("best_checkpoint_epoch");
  record.config = string_pairs(root, "config");
  if (json.value.contains("config_yaml")) record.config_yaml = root.text("config_yaml");
  return record;
}

}  // namespace repro
