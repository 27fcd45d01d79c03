// The config's JSON Schema, built from the decoder's vocabulary. The keys of every map, the
// layers and their arguments, the initializers', optimizers' and schedules' arguments and every
// closed list of words come from the lists decode.cpp reads configs with; this file adds what a
// list cannot say: each key's type and range (config.h's limits, the ranges the decoder checks)
// and a one-line description. object() refuses a key without a description and a description
// without a key, so the schema cannot drift from the decoder without `repro schema` (and the
// tests) failing.
#include "config/schema.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "config/tree.h"
#include "config/vocabulary.h"
#include "core/error.h"

namespace repro {

namespace {

using Json = nlohmann::ordered_json;
using config_detail::boolean_words;

Json integer(int64_t lo, int64_t hi, const std::string& text) {
  return Json{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}, {"description", text}};
}

Json number(const std::string& text) { return Json{{"type", "number"}, {"description", text}}; }

Json text_value(const std::string& text) { return Json{{"type", "string"}, {"description", text}}; }

Json words(const std::vector<std::string>& list, const std::string& text) {
  return Json{{"type", "string"}, {"enum", list}, {"description", text}};
}

// true/false, and the words the decoder also takes unquoted (on/off, yes/no), which YAML 1.2
// editors read as strings.
Json boolean(const std::string& text) {
  Json spelled = boolean_words(true);
  for (const std::string& w : boolean_words(false)) spelled.push_back(w);
  Json schema{{"anyOf", Json::array({Json{{"type", "boolean"}}, Json{{"enum", spelled}}})}};
  if (!text.empty()) schema["description"] = text;
  return schema;
}

Json or_null(Json schema) {
  const std::string text = schema.value("description", "");
  schema.erase("description");
  return Json{{"anyOf", Json::array({schema, Json{{"type", "null"}}})}, {"description", text}};
}

// An int for both sides or [h, w] (kernel_size, strides, pool_size).
Json pair(int lo, int hi, const std::string& text) {
  const Json side{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}};
  return Json{
      {"anyOf",
       Json::array(
           {side, Json{{"type", "array"}, {"items", side}, {"minItems", 2}, {"maxItems", 2}}})},
      {"description", text}};
}

// [h, w] only (data.resize, data.image_size).
Json size_list(int hi, const std::string& text) {
  return Json{{"type", "array"},
              {"items", Json{{"type", "integer"}, {"minimum", 1}, {"maximum", hi}}},
              {"minItems", 2},
              {"maxItems", 2},
              {"description", text}};
}

// A number f (meaning [-|f|, |f|]) or [lower, upper]: Keras's augmentation factors.
Json factor(const std::string& text) {
  return Json{{"anyOf", Json::array({Json{{"type", "number"}}, Json{{"type", "array"},
                                                                    {"items", {{"type", "number"}}},
                                                                    {"minItems", 2},
                                                                    {"maxItems", 2}}})},
              {"description", text}};
}

Json auto_or_count(const std::string& text) {
  return Json{
      {"anyOf",
       Json::array({Json{{"const", "auto"}},
                    Json{{"type", "integer"}, {"minimum", 1}, {"maximum", limits::workers}}})},
      {"description", text}};
}

Json seed_value(const std::string& text) { return or_null(integer(0, limits::seed, text)); }

// A map whose keys are exactly `keys` (the decoder's list for it), each described in `specs`.
// A key of `keys` without a description, or a description of a key the decoder does not read,
// is an error in this file.
Json object(const std::string& where, const std::vector<std::string>& keys,
            const std::map<std::string, Json>& specs, const std::string& text) {
  Json properties = Json::object();
  for (const std::string& key : keys) {
    const auto it = specs.find(key);
    if (it == specs.end()) {
      throw RuntimeError("the config schema describes no `" + key + "` in " + where +
                         ", which the decoder reads; add it to lib/config/schema.cpp");
    }
    properties[key] = it->second;
  }
  for (const auto& [key, spec] : specs) {
    if (!properties.contains(key)) {
      throw RuntimeError("the config schema describes `" + key + "` in " + where +
                         ", which the decoder does not read; remove it from "
                         "lib/config/schema.cpp");
    }
  }
  Json schema{{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
  if (!text.empty()) schema["description"] = text;
  return schema;
}

// Keras's class name for a snake_case name: glorot_uniform -> GlorotUniform (snake_case's
// inverse; the decoder takes both).
std::string class_name(const std::string& snake) {
  std::string out;
  bool upper = true;
  for (const char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

Json name_words(const std::string& name) {
  std::vector<std::string> spelled{name};
  if (class_name(name) != name) spelled.push_back(class_name(name));
  return Json{{"enum", spelled}};
}

// An initializer: its name (snake_case or Keras's class name), or a map with the name and the
// arguments that initializer takes; a map without a name keeps the layer's default (then only
// a seed applies). Written once, under definitions, and referred to by each initializer key.
Json initializer_definition() {
  const std::map<std::string, Json> arguments{
      {"seed", seed_value("The initializer's own seed (null: drawn from the run's seed)")},
      {"mean", number("The normal distribution's mean")},
      {"stddev", number("The normal distribution's standard deviation (above 0)")},
      {"minval", number("The uniform distribution's lower bound")},
      {"maxval", number("The uniform distribution's upper bound (above minval)")},
      {"scale", number("The variance's scale (above 0)")},
      {"gain", number("The orthogonal matrix's multiplier")},
      {"value", number("The constant every weight starts at")},
      {"mode", words(config_detail::variance_modes(), "Which fan the variance divides by")},
      {"distribution", words(config_detail::variance_distributions(),
                             "The distribution drawn from (normal means truncated_normal)")}};
  std::vector<std::string> all_names;
  Json variants = Json::array();
  std::set<std::string> used;
  for (const std::string& name : initializer_names()) {
    all_names.push_back(name);
    if (class_name(name) != name) all_names.push_back(class_name(name));
    std::vector<std::string> keys{"name"};
    std::map<std::string, Json> specs{{"name", name_words(name)}};
    for (const std::string& arg : config_detail::initializer_arguments(name)) {
      keys.push_back(arg);
      specs[arg] = arguments.at(arg);
      used.insert(arg);
    }
    Json variant =
        object("initializer " + name, keys, specs, "keras.initializers." + class_name(name));
    variant["required"] = Json::array({"name"});
    variants.push_back(variant);
  }
  for (const auto& [arg, spec] : arguments) {
    if (!used.count(arg))
      throw RuntimeError("the config schema describes the initializer argument `" + arg +
                         "`, which no initializer takes; remove it from lib/config/schema.cpp");
  }
  variants.push_back(object("an initializer without a name", {"seed"},
                            {{"seed", arguments.at("seed")}},
                            "The layer's default initializer with its own seed"));
  Json forms = Json::array({Json{{"type", "string"}, {"enum", all_names}}});
  for (const Json& v : variants) forms.push_back(v);
  return Json{{"anyOf", forms}, {"description", "A keras.initializers name or {name: ..., ...}"}};
}

// A reference to the definition, with the key's own description beside it (allOf: draft-07
// ignores the siblings of a bare $ref).
Json initializer(const std::string& text) {
  return Json{{"allOf", Json::array({Json{{"$ref", "#/definitions/initializer"}}})},
              {"description", text}};
}

// The optimizer's names in any case, as the decoder reads them (Adam, SGD, RMSprop): a pattern of
// [aA] classes, since JSON Schema's regular expressions have no case-insensitive flag.
Json any_case(const std::vector<std::string>& names) {
  std::string pattern;
  for (const std::string& name : names) {
    pattern += pattern.empty() ? "^(?:" : "|";
    for (const char c : name) {
      const bool letter = c >= 'a' && c <= 'z';
      pattern += letter ? std::string("[") + c + static_cast<char>(c - 'a' + 'A') + "]"
                        : std::string(1, c);
    }
  }
  return Json{{"type", "string"}, {"pattern", pattern + ")$"}};
}

// training.optimizer.learning_rate as a schedule map.
Json schedule() {
  const std::map<std::string, Json> arguments{
      {"initial_learning_rate", number("The learning rate at step 0 (above 0)")},
      {"decay_steps", integer(1, limits::steps, "Steps over which the rate decays")},
      {"decay_rate", number("exponential_decay: the factor per decay_steps (above 0)")},
      {"staircase", boolean("exponential_decay: decay in whole steps of decay_steps")},
      {"alpha", number("cosine_decay: the final fraction of the initial rate, in [0, 1]")},
      {"boundaries",
       Json{{"type", "array"},
            {"items", {{"type", "integer"}, {"minimum", 0}, {"maximum", limits::steps}}},
            {"description", "Strictly increasing step counts"}}},
      {"values", Json{{"type", "array"},
                      {"items", {{"type", "number"}}},
                      {"description",
                       "The rate before, between and after the boundaries "
                       "(one more than boundaries)"}}}};
  Json variants = Json::array();
  for (const std::string& name : config_detail::schedule_names()) {
    std::vector<std::string> keys{"name"};
    std::map<std::string, Json> specs{{"name", name_words(name)}};
    for (const std::string& arg : config_detail::schedule_arguments(name)) {
      keys.push_back(arg);
      specs[arg] = arguments.at(arg);
    }
    Json variant =
        object("schedule " + name, keys, specs, "keras.optimizers.schedules." + class_name(name));
    variant["required"] = Json::array({"name"});
    variants.push_back(variant);
  }
  return Json{{"anyOf", variants}, {"description", "A learning-rate schedule"}};
}

Json optimizer() {
  const std::map<std::string, Json> arguments{
      {"learning_rate",
       Json{{"anyOf", Json::array({Json{{"type", "number"}}, schedule()})},
            {"description", "The learning rate, or a schedule {name: cosine_decay, ...}"}}},
      {"beta_1", number("The first moment's decay, in [0, 1)")},
      {"beta_2", number("The second moment's decay, in [0, 1)")},
      {"epsilon", number("The denominator's small constant (above 0)")},
      {"momentum", number("The momentum, in [0, 1)")},
      {"nesterov", boolean("Nesterov momentum")},
      {"rho", number("The moving average's decay, in [0, 1)")},
      {"centered", boolean("Normalize by the gradient's estimated variance")},
      {"weight_decay", number("The decoupled weight decay (0 or more)")}};
  Json forms = Json::array({words(optimizer_names(), "An optimizer with Keras's defaults"),
                            any_case(optimizer_names())});
  for (const std::string& name : optimizer_names()) {
    std::vector<std::string> keys{"name"};
    std::map<std::string, Json> specs{
        {"name", Json{{"anyOf", Json::array({Json{{"enum", {name}}}, any_case({name})})}}}};
    for (const std::string& arg : config_detail::optimizer_arguments(name)) {
      keys.push_back(arg);
      specs[arg] = arguments.at(arg);
    }
    Json variant = object("optimizer " + name, keys, specs, "keras.optimizers." + name);
    if (name != "adam") variant["required"] = Json::array({"name"});  // no name: adam
    forms.push_back(variant);
  }
  return Json{{"anyOf", forms},
              {"description", "adam, sgd, rmsprop or adamw, or {name: adam, learning_rate: ...}"}};
}

// The description of each layer argument, by name; zero_padding2d's padding is its own.
std::map<std::string, Json> layer_arguments() {
  const Json names{{"type", "string"}};
  return {
      {"filters", integer(1, limits::units, "Output channels")},
      {"units", integer(1, limits::units, "Outputs")},
      {"depth_multiplier", integer(1, limits::units, "Output channels per input channel")},
      {"kernel_size", pair(1, limits::window, "The window: an int or [h, w]")},
      {"pool_size", pair(1, limits::window, "The window: an int or [h, w]")},
      {"strides", pair(1, limits::window, "The step: an int or [h, w] (pooling: pool_size)")},
      {"padding", words(config_detail::padding_names(), "valid: no padding; same: keep the size")},
      {"activation", words(config_detail::activation_names(), "The activation function")},
      {"use_bias", boolean("Add a bias")},
      {"kernel_initializer", initializer("The kernel's initializer (glorot_uniform)")},
      {"bias_initializer", initializer("The bias's initializer (zeros)")},
      {"depthwise_initializer", initializer("The depthwise kernel's initializer")},
      {"pointwise_initializer", initializer("The 1x1 kernel's initializer")},
      {"recurrent_initializer", initializer("The recurrent kernel's initializer (orthogonal)")},
      {"recurrent_activation", words(config_detail::activation_names(), "lstm's gate activation")},
      {"unit_forget_bias", boolean("Start the forget gate's bias at 1")},
      {"dropout", number("The fraction of inputs dropped, in [0, 1), one mask per sequence")},
      {"recurrent_dropout",
       number("The fraction of the state dropped, in [0, 1), one mask per sequence")},
      {"return_sequences", boolean("Output every timestep (else the last)")},
      {"go_backwards", boolean("Run the sequence from its last timestep")},
      {"reset_after", boolean("gru: apply the reset gate after the recurrent product (Keras 3)")},
      {"beta_initializer", initializer("The offset's initializer (zeros)")},
      {"gamma_initializer", initializer("The scale's initializer (ones)")},
      {"moving_mean_initializer", initializer("The moving mean's initializer (zeros)")},
      {"moving_variance_initializer", initializer("The moving variance's initializer (ones)")},
      {"rate", number("The fraction of inputs dropped, in [0, 1)")},
      {"axis", integer(-1, 3, "The channel axis, -1 (the only one supported)")},
      {"momentum", number("The moving statistics' momentum, in [0, 1]")},
      {"epsilon", number("The variance's small constant (above 0)")},
      {"center", boolean("Learn an offset (beta)")},
      {"scale", boolean("Learn a scale (gamma)")},
      {"mode", words(config_detail::flip_modes(), "Which flips")},
      {"seed", seed_value("The layer's own seed (null: the run's seed)")},
      {"height_factor", factor("A fraction f ([-f, f]) or [lower, upper], in [-1, 1]")},
      {"width_factor", or_null(factor("A fraction f ([-f, f]) or [lower, upper], in [-1, 1]"))},
      {"fill_mode", words(config_detail::fill_modes(), "How points outside the image are filled")},
      {"interpolation", words(config_detail::interpolation_names(), "The resampling")},
      {"fill_value", number("The value for fill_mode constant")},
      {"input_dim", integer(1, limits::units, "embedding: the number of ids, 0 .. input_dim - 1")},
      {"output_dim", integer(1, limits::units, "embedding: the values of each id's row")},
      {"embeddings_initializer", initializer("The embeddings' initializer (random_uniform)")},
      {"mask_zero", boolean("embedding: false only (masking is not supported)")},
      {"dims",
       Json{{"type", "array"},
            {"items", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3}}},
            {"minItems", 1},
            {"maxItems", 3},
            {"description", "permute: the input axes (1-based) in their new order, e.g. [2, 1]"}}},
      {"target_shape",
       Json{{"type", "array"},
            {"items", {{"type", "integer"}, {"minimum", -1}, {"maximum", limits::units}}},
            {"minItems", 1},
            {"maxItems", 3},
            {"description",
             "[h, w, c], [timesteps, features] or [f]; one entry may be -1 (the rest)"}}},
      {"merge_mode",
       words(config_detail::merge_modes(), "How the forward and backward outputs combine")},
      {"name", text_value("The layer's name (default: Keras's, dense, dense_1, ...)")},
      {"inputs",
       Json{{"anyOf",
             Json::array({names, Json{{"type", "array"}, {"items", names}, {"minItems", 1}}})},
            {"description", "The layers this one takes, by name (input: the model's input)"}}},
  };
}

Json zero_padding() {
  const Json side{{"type", "integer"}, {"minimum", 0}, {"maximum", limits::window}};
  const Json two{{"type", "array"}, {"items", side}, {"minItems", 2}, {"maxItems", 2}};
  return Json{
      {"anyOf",
       Json::array(
           {side, two, Json{{"type", "array"}, {"items", two}, {"minItems", 2}, {"maxItems", 2}}})},
      {"description", "n, [h, w] or [[top, bottom], [left, right]] zeros added"}};
}

Json model() {
  const std::map<std::string, Json> arguments = layer_arguments();
  std::set<std::string> used;
  Json layers = Json::object();
  std::vector<std::string> keys;
  // Wrappers last: their `layer` is one of the layers they take, as an item of its own.
  for (const bool wrappers : {false, true}) {
    for (const config_detail::LayerVocabulary& layer : config_detail::layer_vocabulary()) {
      const std::vector<LayerKind> inner = config_detail::wrappable_kinds(layer.kind);
      if (inner.empty() == wrappers) continue;
      keys.push_back(layer.key);
      std::vector<std::string> args = layer.arguments;
      args.push_back("inputs");  // any layer may name the layers it takes
      std::map<std::string, Json> specs;
      for (const std::string& arg : args) {
        if (layer.kind == LayerKind::zero_padding2d && arg == "padding") {
          specs[arg] = zero_padding();
        } else if (arg == "layer") {
          Json properties = Json::object();
          std::vector<std::string> names;
          for (const LayerKind kind : inner) {
            properties[layer_key(kind)] = layers.at(layer_key(kind));
            names.push_back(layer_key(kind));
          }
          specs[arg] = Json{{"type", "object"},
                            {"properties", properties},
                            {"additionalProperties", false},
                            {"minProperties", 1},
                            {"maxProperties", 1},
                            {"description", "The wrapped layer, its type as the only key: " +
                                                config_detail::words_text(names)}};
        } else if (arguments.count(arg)) {
          specs[arg] = arguments.at(arg);
          used.insert(arg);
        }
      }
      layers[layer.key] = or_null(object("layer " + layer.key, args, specs,
                                         "keras.layers." + layer_class_name(layer.kind)));
    }
  }
  for (const auto& [arg, spec] : arguments) {
    if (!used.count(arg))
      throw RuntimeError("the config schema describes the layer argument `" + arg +
                         "`, which no layer takes; remove it from lib/config/schema.cpp");
  }
  const Json item{{"anyOf", Json::array({Json{{"type", "string"}, {"enum", keys}},
                                         Json{{"type", "object"},
                                              {"properties", layers},
                                              {"additionalProperties", false},
                                              {"minProperties", 1},
                                              {"maxProperties", 1}}})},
                  {"description", "One layer, its type as the only key: - dense: {units: 10}"}};
  return or_null(Json{{"type", "array"},
                      {"items", item},
                      {"description", "The layers in order (a graph where layers name inputs)"}});
}

Json monitor() { return words(config_detail::monitor_names(), "The history key watched"); }

Json monitor_mode() {
  return words(config_detail::monitor_modes(),
               "min or max: the better direction (auto: the losses fall, accuracies rise)");
}

Json training() {
  using namespace config_detail;
  const Json checkpoint = object(
      "training.checkpoint", checkpoint_keys(),
      {{"every",
        Json{{"anyOf",
              Json::array({Json{{"const", "epoch"}},
                           Json{{"type", "integer"}, {"minimum", 1}, {"maximum", limits::steps}}})},
             {"description", "epoch, or a number of steps between checkpoints"}}},
       {"keep", integer(1, limits::keep, "The newest checkpoints kept")},
       {"best", or_null(object("training.checkpoint.best", monitor_keys(),
                               {{"monitor", monitor()}, {"mode", monitor_mode()}},
                               "Also keep the best epoch's weights as best.safetensors"))}},
      "Checkpoints to resume from (repro train --resume)");
  return or_null(object(
      "training", training_keys(),
      {{"epochs", integer(1, limits::epochs, "Epochs")},
       {"optimizer", optimizer()},
       {"loss", words(loss_names(), "The loss")},
       {"metrics", Json{{"type", "array"},
                        {"items", {{"type", "string"}, {"enum", metric_names()}}},
                        {"description", "The metrics recorded (accuracy)"}}},
       {"validation", Json{{"anyOf", Json::array({boolean(""), Json{{"const", "test"}}})},
                           {"description",
                            "Evaluate after every epoch, on data.validation_split's images "
                            "or the test split (test: always the test split)"}}},
       {"checkpoint",
        Json{{"anyOf", Json::array({boolean(""), Json{{"type", "null"}}, checkpoint})},
             {"description", "true (every epoch, keep 2) or {every: ..., keep: ..., best: ...}"}}},
       {"trace",
        Json{{"anyOf",
              Json::array(
                  {Json{{"type", "null"}}, Json{{"enum", Json::array({false})}},
                   Json{{"enum", boolean_words(false)}},
                   object("training.trace", interval_keys(),
                          {{"every", integer(1, limits::steps, "Steps between records")}}, "")})},
             {"description", "Record weight and gradient digests every N steps: {every: 50}"}}},
       {"log", or_null(object(
                   "training.log", interval_keys(),
                   {{"every", integer(0, limits::steps, "Steps between rows (0: no steps.csv)")}},
                   "steps.csv, a row every N steps"))},
       {"early_stopping",
        or_null(object(
            "training.early_stopping", early_stopping_keys(),
            {{"monitor", monitor()},
             {"mode", monitor_mode()},
             {"min_delta", number("The least change that counts as better")},
             {"patience", integer(0, limits::epochs, "Epochs without improvement before stopping")},
             {"baseline", or_null(number("A value the monitor must beat"))},
             {"restore_best_weights", boolean("End with the best epoch's weights")},
             {"start_from_epoch", integer(0, limits::epochs, "Epochs before it starts watching")}},
            "keras.callbacks.EarlyStopping"))},
       {"reduce_lr_on_plateau",
        or_null(
            object("training.reduce_lr_on_plateau", reduce_lr_keys(),
                   {{"monitor", monitor()},
                    {"mode", monitor_mode()},
                    {"factor", number("The learning rate's multiplier, above 0 and below 1")},
                    {"patience", integer(0, limits::epochs, "Epochs without improvement first")},
                    {"min_delta", number("The least change that counts as better")},
                    {"cooldown", integer(0, limits::epochs, "Epochs to wait after a reduction")},
                    {"min_lr", number("The lowest learning rate (0 or more)")}},
                   "keras.callbacks.ReduceLROnPlateau"))}},
      "How the model trains"));
}

Json data() {
  using namespace config_detail;
  const std::string idx = "dataset idx: the IDX file of the ";
  return or_null(object(
      "data", data_keys(),
      {{"dataset", words(dataset_names(), "The images: a named dataset or files of a format")},
       {"dir", or_null(text_value("A folder with the dataset's files (else REPRO_DATA_DIR, "
                                  "then the download cache)"))},
       {"train_images", text_value(idx + "training images")},
       {"train_labels", text_value(idx + "training labels")},
       {"test_images", text_value(idx + "test images")},
       {"test_labels", text_value(idx + "test labels")},
       {"path", text_value("dataset npz: the .npz file; csv: the table")},
       {"keys", or_null(object("data.keys", npz_array_keys(),
                               {{"x_train", text_value("The training images' array")},
                                {"y_train", text_value("The training labels' array")},
                                {"x_test", text_value("The test images' array")},
                                {"y_test", text_value("The test labels' array")}},
                               "dataset npz: the arrays' names in the file"))},
       {"limit", integer(0, limits::images, "The first N training images (0: all)")},
       {"shuffle", boolean("Shuffle the training images every epoch")},
       {"shuffle_buffer", integer(0, limits::images, "The shuffle buffer (0: the whole set)")},
       {"reshuffle_each_iteration", boolean("A new order every epoch")},
       {"batch_size", integer(1, limits::batch_size, "Images per step")},
       {"resize", or_null(size_list(limits::resize, "[h, w] the images are resized to"))},
       {"num_parallel_calls", auto_or_count("Preprocessing workers (auto: the threads)")},
       {"prefetch", auto_or_count("Batches prepared ahead (auto: 2)")},
       {"channels", integer(1, limits::channels, "npz and idx: the images' channels")},
       {"validation_split",
        Json{{"type", "number"},
             {"minimum", 0},
             {"exclusiveMaximum", 1},
             {"description", "The last fraction of the training images held out to validate"}}},
       {"directory", text_value("dataset image_folder: the folder of class folders")},
       {"test_directory",
        or_null(text_value("dataset image_folder: the test images' folder of class folders"))},
       {"color_mode", words(color_modes(), "dataset image_folder: the images' colours")},
       {"image_size", size_list(limits::resize, "dataset image_folder: [h, w] (256x256)")},
       {"test_path", or_null(text_value("dataset csv: a test table with the same columns"))},
       {"label", Json{{"type", Json::array({"string", "number"})},
                      {"description", "dataset csv: the label column's name"}}},
       {"features", integer(1, limits::units, "dataset csv: the feature columns")}},
      "The images and how they are read"));
}

Json schema() {
  using namespace config_detail;
  Json root = object(
      "the config", top_level_keys(),
      {{"seed", integer(0, limits::seed,
                        "The run's seed: the initializers, every shuffle and dropout mask")},
       {"rng", words(rng_names(), "Whose initializer bits to reproduce: Keras 3 on JAX or TF")},
       {"determinism", Json{{"enum",
                             [] {
                               Json all = determinism_words();
                               all.push_back(true);
                               all.push_back(false);
                               return all;
                             }()},
                            {"description",
                             "on: identical bits for any thread count; portable: on any x86-64 "
                             "CPU too; off: fastest"}}},
       {"device", words(device_names(), "cpu (oneDNN) or cuda (cuDNN)")},
       {"threads", integer(0, limits::threads, "CPU threads (0: all cores)")},
       {"initial_weights", text_value("A model.safetensors to start from instead of the "
                                      "initializers")},
       {"data", data()},
       {"model", model()},
       {"training", training()}},
      "A repro config: repro train CONFIG");
  Json out{{"$schema", "http://json-schema.org/draft-07/schema#"}, {"title", "repro config"}};
  for (auto& [key, value] : root.items()) out[key] = value;
  out["definitions"] = Json{{"initializer", initializer_definition()}};
  return out;
}

// The key paths under `schema` (an object, or an anyOf of objects), parents first.
void key_paths(const Json& schema, const std::string& prefix, std::vector<std::string>& out,
               std::set<std::string>& seen) {
  if (schema.contains("anyOf")) {
    for (const Json& form : schema["anyOf"]) key_paths(form, prefix, out, seen);
  }
  if (!schema.contains("properties")) return;
  for (const auto& [key, value] : schema["properties"].items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (seen.insert(path).second) out.push_back(path);
    if (path != "model") key_paths(value, path, out, seen);
  }
}

}  // namespace

std::string config_schema_json() { return schema().dump(2) + "\n"; }

std::vector<std::string> config_key_paths() {
  std::vector<std::string> out;
  std::set<std::string> seen;
  key_paths(schema(), "", out, seen);
  return out;
}

}  // namespace repro
