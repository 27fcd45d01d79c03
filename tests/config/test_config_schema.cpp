// The config's JSON Schema against the decoder itself: the committed copy is current, every map's
// keys in the schema are the keys the decoder lists when it refuses an unknown one (and back),
// every closed list of words is the one the decoder names, and the `--set` key paths are keys it
// reads. The schema is generated from the decoder's vocabulary; these tests read the decoder's
// answers through parse_config, so a hand-written rule in either place that the other lacks fails.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "config/schema.h"
#include "config_test_helpers.h"
#include "core/fs.h"

using Json = nlohmann::json;
using repro::test::config_error;
using repro::test::kSmall;

namespace {

// The words after `marker` in `message` up to " (got" or its end, split at ", " and " or ".
std::set<std::string> listed(const std::string& message, const std::string& marker) {
  const size_t at = message.find(marker);
  if (at == std::string::npos) return {"(no `" + marker + "` in: " + message + ")"};
  std::string rest = message.substr(at + marker.size());
  rest = rest.substr(0, rest.find(" (got"));
  std::set<std::string> words;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(", ", start), orword = rest.find(" or ", start);
    const size_t end = std::min(comma, orword);
    words.insert(rest.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + (end == comma ? 2 : 4);
  }
  return words;
}

std::set<std::string> keys_of(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.at("properties").items()) keys.insert(key);
  return keys;
}

// The form of an anyOf whose `name` key spells `name` (an optimizer, schedule or initializer).
const Json& named_form(const Json& schema, const std::string& name) {
  for (const Json& form : schema.at("anyOf")) {
    if (!form.contains("properties") || !form["properties"].contains("name")) continue;
    const Json& spelled = form["properties"]["name"];
    const Json& words = spelled.contains("enum") ? spelled["enum"] : spelled["anyOf"][0]["enum"];
    if (words[0] == name) return form;
  }
  throw std::runtime_error("no form named " + name);
}

const Json& object_form(const Json& schema) {
  if (schema.contains("properties")) return schema;
  for (const Json& form : schema.at("anyOf"))
    if (form.contains("properties")) return form;
  throw std::runtime_error("no object form");
}

const Json kSchema = Json::parse(repro::config_schema_json());
const Json& top() { return kSchema.at("properties"); }

// model: a list (or nothing) of items, each a layer's key or a map of one layer.
const Json& model_items() { return top().at("model").at("anyOf")[0].at("items"); }

const Json& layer_schema(const std::string& key) {
  return object_form(model_items().at("anyOf")[1].at("properties").at(key));
}

std::vector<std::string> layer_keys() { return model_items().at("anyOf")[0].at("enum"); }

std::set<std::string> enum_of(const Json& schema) {
  return schema.at("enum").get<std::set<std::string>>();
}

}  // namespace

TEST_CASE("configs/config.schema.json is what repro schema writes") {
  const std::string committed =
      repro::read_file(std::string(REPRO_SOURCE_DIR) + "/configs/config.schema.json");
  INFO(
      "configs/config.schema.json is stale: run build/repro schema --out "
      "configs/config.schema.json and commit it");
  CHECK(committed == repro::config_schema_json());
  CHECK(kSchema.at("$schema") == "http://json-schema.org/draft-07/schema#");
}

TEST_CASE("the schema's keys of every map are the keys the decoder accepts, and back") {
  const std::string model =
      "model:\n  - conv2d: {filters: 4, kernel_size: 3}\n  - flatten\n  - dense: {units: 10, "
      "activation: softmax}\n";
  const std::string valid = "; valid keys: ";
  CHECK(listed(config_error("zzz: 1\n" + kSmall), valid) == keys_of(kSchema));
  CHECK(listed(config_error("data: {dataset: mnist, zzz: 1}\n" + model), valid) ==
        keys_of(object_form(top().at("data"))));
  const Json& data = object_form(top().at("data")).at("properties");
  CHECK(listed(config_error("data: {keys: {zzz: a}}\n" + model), valid) ==
        keys_of(object_form(data.at("keys"))));
  const Json& training = object_form(top().at("training"));
  CHECK(listed(config_error(model + "training: {zzz: 1}\n"), valid) == keys_of(training));
  const Json& t = training.at("properties");
  for (const std::string key :
       {"checkpoint", "log", "trace", "early_stopping", "reduce_lr_on_plateau"}) {
    INFO(key);
    CHECK(listed(config_error(model + "training: {" + key + ": {zzz: 1}}\n"), valid) ==
          keys_of(object_form(t.at(key))));
  }
  CHECK(listed(config_error(model + "training: {checkpoint: {best: {zzz: 1}}}\n"), valid) ==
        keys_of(object_form(object_form(t.at("checkpoint")).at("properties").at("best"))));

  // Each layer, each optimizer, each schedule and each initializer with its own arguments.
  for (const std::string& layer : layer_keys()) {
    INFO(layer);
    CHECK(listed(config_error("model:\n  - " + layer + ": {zzz: 1}\n"), valid) ==
          keys_of(layer_schema(layer)));
  }
  for (const std::string& name : repro::optimizer_names()) {
    INFO(name);
    CHECK(listed(config_error(model + "training: {optimizer: {name: " + name + ", zzz: 1}}\n"),
                 valid) == keys_of(named_form(t.at("optimizer"), name)));
  }
  const Json& schedules =
      named_form(t.at("optimizer"), "adam").at("properties").at("learning_rate").at("anyOf")[1];
  for (const Json& form : schedules.at("anyOf")) {
    const std::string name = form.at("properties").at("name").at("enum")[0];
    INFO(name);
    CHECK(listed(config_error(model + "training: {optimizer: {learning_rate: {name: " + name +
                              ", zzz: 1}}}\n"),
                 valid) == keys_of(form));
  }
  const Json& initializers = kSchema.at("definitions").at("initializer");
  for (const std::string& name : repro::initializer_names()) {
    INFO(name);
    CHECK(listed(config_error("model:\n  - dense: {units: 10, activation: softmax, "
                              "kernel_initializer: {name: " +
                              name + ", zzz: 1}}\n"),
                 valid) == keys_of(named_form(initializers, name)));
  }
}

TEST_CASE("the schema's closed lists of words are the ones the decoder names") {
  const std::string head = "model:\n  - ";
  const std::string dense = "  - dense: {units: 10, activation: softmax}\n";
  const std::string one_of = "must be one of ";
  const std::vector<std::string> layers = layer_keys();
  CHECK(listed(config_error(head + "zzz: {}\n"), "valid layers: ") ==
        std::set<std::string>(layers.begin(), layers.end()));
  CHECK(listed(config_error(head + "dense: {units: 10, activation: zzz}\n"), one_of) ==
        enum_of(layer_schema("dense").at("properties").at("activation")));
  CHECK(listed(config_error(head + "conv2d: {filters: 2, padding: zzz}\n" + dense), one_of) ==
        enum_of(layer_schema("conv2d").at("properties").at("padding")));
  const Json& zoom = layer_schema("random_zoom").at("properties");
  CHECK(listed(config_error(head + "random_zoom: {height_factor: 0.1, fill_mode: zzz}\n" + dense),
               one_of) == enum_of(zoom.at("fill_mode")));
  CHECK(
      listed(config_error(head + "random_zoom: {height_factor: 0.1, interpolation: zzz}\n" + dense),
             one_of) == enum_of(zoom.at("interpolation")));
  CHECK(listed(config_error(head + "random_flip: {mode: zzz}\n" + dense), one_of) ==
        enum_of(layer_schema("random_flip").at("properties").at("mode")));
  const Json& variance =
      named_form(kSchema.at("definitions").at("initializer"), "variance_scaling").at("properties");
  for (const std::string key : {"mode", "distribution"}) {
    CHECK(listed(config_error(head +
                              "dense: {units: 10, kernel_initializer: {name: "
                              "variance_scaling, " +
                              key + ": zzz}}\n"),
                 one_of) == enum_of(variance.at(key)));
  }
  CHECK(listed(config_error(head + "dense: {units: 10, kernel_initializer: zzz}\n"),
               "valid names: ") == std::set<std::string>(repro::initializer_names().begin(),
                                                         repro::initializer_names().end()));
  for (const std::string key : {"rng", "device"})
    CHECK(listed(config_error(key + ": zzz\n" + kSmall), one_of) == enum_of(top().at(key)));
  std::set<std::string> determinism;
  for (const Json& word : top().at("determinism").at("enum"))
    if (word.is_string()) determinism.insert(word.get<std::string>());
  CHECK(listed(config_error("determinism: zzz\n" + kSmall), one_of) == determinism);
  const Json& data = object_form(top().at("data")).at("properties");
  CHECK(listed(config_error("data: {dataset: zzz}\n" + head + "flatten\n" + dense), "must be ") ==
        enum_of(data.at("dataset")));
  CHECK(listed(config_error("data: {dataset: image_folder, directory: d, color_mode: zzz}\n" +
                            head + "flatten\n" + dense),
               "must be ") == enum_of(data.at("color_mode")));
  const Json& stopping =
      object_form(object_form(top().at("training")).at("properties").at("early_stopping"))
          .at("properties");
  for (const std::string key : {"monitor", "mode"}) {
    CHECK(listed(config_error(kSmall + "  early_stopping: {" + key + ": zzz}\n"), one_of) ==
          enum_of(stopping.at(key)));
  }
}

TEST_CASE("the --set key paths are keys the decoder reads") {
  const std::vector<std::string> paths = repro::config_key_paths();
  const std::set<std::string> all(paths.begin(), paths.end());
  for (const std::string key :
       {"seed", "data.batch_size", "data.keys.x_train", "training.epochs",
        "training.optimizer.learning_rate", "training.optimizer.learning_rate.decay_steps",
        "training.checkpoint.best.monitor", "training.early_stopping.patience", "model"})
    CHECK(all.count(key) == 1);
  // A few of them set on a real config: no `unknown key`.
  for (const std::string set :
       {"training.early_stopping.patience=2", "training.checkpoint.keep=3",
        "data.num_parallel_calls=auto", "training.reduce_lr_on_plateau.cooldown=1",
        "training.optimizer.beta_2=0.99", "data.validation_split=0.1"}) {
    INFO(set);
    CHECK(config_error(kSmall, {set}) == "no error");
  }
}

TEST_CASE("a value that a later override replaces is checked all the same") {
  const std::string error =
      config_error(kSmall, {"training.epochs=999999999999999999999999", "training.epochs=1"});
  CHECK(error ==
        "--set training.epochs=999999999999999999999999: training.epochs must be an integer "
        "from 1 to 1000000 (got `999999999999999999999999`, past the 64-bit integer range)");
  CHECK(config_error(kSmall, {"seed=-3", "seed=4"}) ==
        "--set seed=-3: seed must be an integer from 0 to 9223372036854775807 (got `-3`)");
  // The file's own values too, when a flag replaces them.
  std::string bad_file = kSmall;
  bad_file.replace(bad_file.find("epochs: 1"), 9, "epochs: many");
  CHECK(config_error(bad_file, {"training.epochs=2"}) ==
        "bad.yaml:10:11: training.epochs must be an integer from 1 to 1000000 (got `many`)");
  CHECK(config_error(kSmall, {"training.epochs=2", "training.epochs=3"}) == "no error");
}
