// Sequential or Functional to_json() -> config YAML. Each Keras class maps to a repro layer key
// with the same argument names, so supported arguments pass through as YAML flow values;
// arguments that only have a default here (data_format channels_last, dilation_rate 1,
// regularizers null, ...) are checked and dropped. A Functional model's calls become `name:` and
// `inputs:`; it imports only what repro's layer graph computes (one input, one output, each layer
// called once). The text is parsed back with the config loader before it is returned, so every
// value gets the config's own range checks.
#include "keras/keras_import.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "keras/keras_graph.h"
#include "record/json_text.h"

namespace repro {

namespace {

using Json = nlohmann::ordered_json;

struct LayerRule {
  std::string key;                     // repro layer key
  std::vector<std::string> arguments;  // passed through under the same name
};

const std::map<std::string, LayerRule>& layer_rules() {
  static const std::vector<std::string> initializers = {"kernel_initializer", "bias_initializer"};
  static const std::map<std::string, LayerRule> rules = {
      {"Conv2D",
       {"conv2d",
        {"filters", "kernel_size", "strides", "padding", "activation", "use_bias",
         "kernel_initializer", "bias_initializer"}}},
      {"DepthwiseConv2D",
       {"depthwise_conv2d",
        {"kernel_size", "strides", "padding", "depth_multiplier", "activation", "use_bias",
         "depthwise_initializer", "bias_initializer"}}},
      {"SeparableConv2D",
       {"separable_conv2d",
        {"filters", "kernel_size", "strides", "padding", "depth_multiplier", "activation",
         "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer"}}},
      {"SimpleRNN",
       {"simple_rnn",
        {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
         "bias_initializer", "dropout", "recurrent_dropout", "return_sequences", "go_backwards"}}},
      {"LSTM",
       {"lstm",
        {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
         "recurrent_initializer", "bias_initializer", "unit_forget_bias", "dropout",
         "recurrent_dropout", "return_sequences", "go_backwards"}}},
      {"GRU",
       {"gru",
        {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
         "recurrent_initializer", "bias_initializer", "dropout", "recurrent_dropout", "reset_after",
         "return_sequences", "go_backwards"}}},
      {"MaxPooling2D", {"max_pooling2d", {"pool_size", "strides", "padding"}}},
      {"AveragePooling2D", {"average_pooling2d", {"pool_size", "strides", "padding"}}},
      {"Dropout", {"dropout", {"rate"}}},
      {"GlobalAveragePooling2D", {"global_average_pooling2d", {}}},
      {"GlobalMaxPooling2D", {"global_max_pooling2d", {}}},
      {"ZeroPadding2D", {"zero_padding2d", {"padding"}}},
      {"Reshape", {"reshape", {"target_shape"}}},
      {"Permute", {"permute", {"dims"}}},
      // Wrappers: their `layer` (and Bidirectional's backward_layer) are read in layer_item.
      {"Bidirectional", {"bidirectional", {"merge_mode"}}},
      {"TimeDistributed", {"time_distributed", {}}},
      {"Embedding",
       {"embedding", {"input_dim", "output_dim", "embeddings_initializer", "mask_zero"}}},
      {"Flatten", {"flatten", {}}},
      {"Dense",
       {"dense", {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"}}},
      {"Activation", {"activation", {"activation"}}},
      {"BatchNormalization",
       {"batch_normalization",
        {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
         "moving_mean_initializer", "moving_variance_initializer"}}},
      {"LayerNormalization",
       {"layer_normalization",
        {"axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer"}}},
      {"RandomFlip", {"random_flip", {"mode", "seed"}}},
      {"RandomTranslation",
       {"random_translation",
        {"height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"}}},
      {"RandomZoom",
       {"random_zoom",
        {"height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"}}},
      // Merge layers, in Functional models only.
      {"Add", {"add", {}}},
      {"Subtract", {"subtract", {}}},
      {"Multiply", {"multiply", {}}},
      {"Average", {"average", {}}},
      {"Maximum", {"maximum", {}}},
      {"Minimum", {"minimum", {}}},
      {"Concatenate", {"concatenate", {"axis"}}},
  };
  return rules;
}

// Layers whose dropout masks repro draws from the run's seed (their own seed must be null).
bool masks_from_run_seed(const std::string& class_name) {
  return class_name == "Dropout" || class_name == "LSTM" || class_name == "SimpleRNN" ||
         class_name == "GRU";
}

// Arguments repro does not take but accepts at the value Keras uses for what repro computes.
bool at_default(const std::string& argument, const Json& value) {
  static const std::set<std::string> null_only = {"kernel_regularizer",
                                                  "bias_regularizer",
                                                  "activity_regularizer",
                                                  "kernel_constraint",
                                                  "bias_constraint",
                                                  "beta_regularizer",
                                                  "gamma_regularizer",
                                                  "beta_constraint",
                                                  "gamma_constraint",
                                                  "noise_shape",
                                                  "lora_rank",
                                                  "quantization_config",
                                                  "depthwise_regularizer",
                                                  "pointwise_regularizer",
                                                  "depthwise_constraint",
                                                  "recurrent_regularizer",
                                                  "recurrent_constraint",
                                                  "pointwise_constraint",
                                                  "embeddings_regularizer",
                                                  "embeddings_constraint"};
  if (null_only.count(argument)) return value.is_null();
  // Embedding's input_length: tf.keras wrote it, Keras 3 drops it ("deprecated. Just remove it").
  if (argument == "name" || argument == "lora_alpha" || argument == "input_length") return true;
  if (argument == "trainable") return value == true;
  if (argument == "data_format") return value.is_null() || value == "channels_last";
  if (argument == "dilation_rate") return value == 1 || value == Json::array({1, 1});
  if (argument == "groups") return value == 1;
  if (argument == "keepdims" || argument == "synchronized" || argument == "rms_scaling" ||
      argument == "return_state" || argument == "stateful" || argument == "unroll")
    return value == false;
  // What a masked step outputs: repro has no masks (Bidirectional sets it to return_sequences).
  if (argument == "zero_output_for_mask") return value.is_boolean();
  if (argument == "dtype") {
    if (value.is_null() || value == "float32") return true;
    return value.is_object() && value.contains("config") && value["config"].is_object() &&
           value["config"].value("name", "") == "float32";
  }
  return false;
}

// What repro needs instead, for the message.
std::string default_hint(const std::string& argument) {
  if (argument == "trainable") return "true";
  if (argument == "data_format") return "channels_last";
  if (argument == "dilation_rate" || argument == "groups") return "1";
  if (argument == "keepdims" || argument == "synchronized") return "false";
  if (argument == "dtype") return "float32";
  return "null";
}

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// A YAML double-quoted string.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// A lowercase word (same, relu, glorot_uniform) as it is; other text double-quoted, and the
// words YAML would read as a bool or null quoted too.
std::string word_or_quoted(const std::string& text) {
  static const std::set<std::string> special = {"true", "false", "null", "yes", "no",
                                                "on",   "off",   "y",    "n"};
  bool plain = !text.empty() && !special.count(text) && text[0] >= 'a' && text[0] <= 'z';
  for (const char c : text)
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  return plain ? text : quoted(text);
}

// A JSON value as a YAML flow value; a serialized Keras object (an initializer) becomes
// {name: snake_name, its config arguments}.
std::string yaml_value(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number()) return number_text(value.get<double>());
  if (value.is_string()) return word_or_quoted(value.get<std::string>());
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) out += (i ? ", " : "") + yaml_value(value[i]);
    return out + "]";
  }
  std::string out = "{name: ";
  out += word_or_quoted(snake_case(value.value("class_name", "")));
  if (value.contains("config") && value["config"].is_object()) {
    for (const auto& [key, item] : value["config"].items()) {
      // Keras's initializer arguments are plain words; anything else could not be one.
      if (word_or_quoted(key) != key)
        throw InputError("initializer argument " + quoted_name(key) + " is not a Keras name");
      out += ", " + key + ": " + yaml_value(item);
    }
  }
  return out + "}";
}

std::string short_value(const Json& value) { return clipped(value.dump(), 40); }

std::string convert(const ParsedJson& parsed, const std::string& file);

// A keras.optimizers.schedules object as repro's schedule map, or "" after naming what repro
// does not run in `unsupported`.
std::string learning_rate_schedule(const Json& schedule, std::vector<std::string>& unsupported) {
  static const std::map<std::string, std::pair<std::string, std::vector<std::string>>> kinds = {
      {"ExponentialDecay",
       {"exponential_decay", {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"}}},
      {"CosineDecay", {"cosine_decay", {"initial_learning_rate", "decay_steps", "alpha"}}},
      {"PiecewiseConstantDecay", {"piecewise_constant_decay", {"boundaries", "values"}}}};
  const std::string class_name = schedule.value("class_name", "");
  const auto kind = kinds.find(class_name);
  const std::string where = "compile_config.optimizer.learning_rate " + quoted_name(class_name);
  if (kind == kinds.end()) {
    unsupported.push_back(where +
                          " is not supported (repro runs ExponentialDecay, CosineDecay and "
                          "PiecewiseConstantDecay)");
    return "";
  }
  const Json config = schedule.value("config", Json::object());
  std::string out = "{name: " + kind->second.first;
  for (const auto& [argument, value] : config.items()) {
    const auto& names = kind->second.second;
    if (std::find(names.begin(), names.end(), argument) != names.end()) {
      out += ", " + argument + ": " + yaml_value(value);
    } else if (argument == "warmup_target"  ? !value.is_null()
               : argument == "warmup_steps" ? value != 0
                                            : argument != "name") {
      unsupported.push_back(where + " argument " + clipped(argument, 40) + " " +
                            short_value(value) + " is not supported (no warmup)");
    }
  }
  return out + "}";
}

// The training section from a model's compile_config (what model.save() writes in a .keras
// archive's config.json; to_json() has none): the optimizer with its arguments, the loss, the
// metrics. Anything repro would train otherwise than Keras goes to `unsupported`.
std::string training_from_compile_config(const Json& compile,
                                         std::vector<std::string>& unsupported) {
  if (!compile.is_object()) return "";
  std::string yaml = "training:\n";
  const Json& opt = compile.value("optimizer", Json());
  if (!opt.is_null()) {
    std::string class_name, name;
    Json args = Json::object();
    if (opt.is_string()) {
      name = opt.get<std::string>();
    } else if (opt.is_object()) {
      class_name = opt.value("class_name", "");
      args = opt.value("config", Json::object());
      name = snake_case(class_name);
      if (name == "adam_w") name = "adamw";
      if (name == "r_m_sprop" || name == "rm_sprop") name = "rmsprop";
    }
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    static const std::map<std::string, std::vector<std::string>> kept = {
        {"adam", {"learning_rate", "beta_1", "beta_2", "epsilon"}},
        {"adamw", {"learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon"}},
        {"sgd", {"learning_rate", "momentum", "nesterov"}},
        {"rmsprop", {"learning_rate", "rho", "momentum", "epsilon", "centered"}}};
    const auto rule = kept.find(name);
    if (rule == kept.end()) {
      unsupported.push_back("compile_config.optimizer " +
                            quoted_name(class_name.empty() ? name : class_name) +
                            " is not supported (repro trains " + optimizer_names_text() + ")");
    } else {
      std::string item = "  optimizer: {name: " + name;
      // Keras's base-optimizer arguments that repro runs only at their defaults.
      static const std::map<std::string, Json> defaults = {{"clipnorm", nullptr},
                                                           {"global_clipnorm", nullptr},
                                                           {"clipvalue", nullptr},
                                                           {"use_ema", false},
                                                           {"loss_scale_factor", nullptr},
                                                           {"gradient_accumulation_steps", nullptr},
                                                           {"amsgrad", false}};
      for (const auto& [argument, value] : args.items()) {
        const auto& names = rule->second;
        if (argument == "learning_rate" && value.is_object()) {
          const std::string schedule = learning_rate_schedule(value, unsupported);
          if (!schedule.empty()) item += ", learning_rate: " + schedule;
          continue;
        }
        if (std::find(names.begin(), names.end(), argument) != names.end()) {
          if (!value.is_number() && !value.is_boolean()) {
            unsupported.push_back("compile_config.optimizer argument " + argument + " " +
                                  short_value(value) +
                                  " is not supported (a number or a Keras schedule)");
            continue;
          }
          item += ", " + argument + ": " + yaml_value(value);
        } else if (argument == "weight_decay" && !value.is_null()) {
          unsupported.push_back("compile_config.optimizer argument weight_decay " +
                                short_value(value) + " is not supported (use AdamW)");
        } else if (defaults.count(argument) && value != defaults.at(argument)) {
          unsupported.push_back("compile_config.optimizer argument " + argument + " " +
                                short_value(value) + " is not supported (repro takes only " +
                                defaults.at(argument).dump() + ")");
        }
      }
      yaml += item + "}\n";
    }
  }
  const Json& loss = compile.value("loss", Json());
  if (!loss.is_null()) {
    const std::string text = loss.is_string()   ? loss.get<std::string>()
                             : loss.is_object() ? snake_case(loss.value("class_name", ""))
                                                : "";
    if (text != "sparse_categorical_crossentropy" ||
        (loss.is_object() && loss.value("config", Json::object()).value("from_logits", false)))
      unsupported.push_back("compile_config.loss " + short_value(loss) +
                            " is not supported (repro trains sparse_categorical_crossentropy)");
    else
      yaml += "  loss: sparse_categorical_crossentropy\n";
  }
  const Json& metrics = compile.value("metrics", Json());
  if (metrics.is_array()) {
    std::string list;
    for (const Json& m : metrics) {
      if (m == "accuracy" || m == "acc") {
        list += std::string(list.empty() ? "" : ", ") + "accuracy";
      } else {
        unsupported.push_back("compile_config.metrics " + short_value(m) +
                              " is not supported (repro records accuracy)");
      }
    }
    yaml += "  metrics: [" + list + "]\n";
  }
  return yaml == "training:\n" ? "" : yaml;
}

}  // namespace

std::string keras_json_to_config(std::string_view json_text, const std::string& file) {
  const ParsedJson parsed = parse_json_text(json_text, file);
  try {
    return convert(parsed, file);
  } catch (const nlohmann::json::exception& e) {
    // A value of the wrong JSON type where Keras writes a string or a number.
    throw InputError(file + ": not a model Keras wrote (" + clipped(e.what(), 120) + ")");
  }
}

namespace {

// What a model's layers convert to: the model list's items and the input (H, W, C).
struct ModelItems {
  std::vector<std::string> items;
  std::vector<int64_t> input;  // (H, W, C); empty for an input that is not an image
  int64_t features = 0;        // a vector input's (F): a table's rows (dataset csv)
};

void take_shape(const Json& shape, ModelItems& out) {
  if (shape.is_array() && shape.size() == 4) {
    out.input.clear();
    for (size_t d = 1; d < 4; ++d)
      out.input.push_back(shape[d].is_number_integer() ? shape[d].get<int64_t>() : -1);
  }
  if (shape.is_array() && shape.size() == 2 && shape[1].is_number_integer())
    out.features = shape[1].get<int64_t>();
}

void take_input_layer_shape(const Json& config, ModelItems& out) {
  take_shape(config.contains("batch_shape") ? config["batch_shape"]
                                            : config.value("batch_input_shape", Json()),
             out);
}

Json layer_config(const Json& layer) {
  return layer.is_object() && layer.contains("config") && layer["config"].is_object()
             ? layer["config"]
             : Json::object();
}

// One layer as a model item without its closing brace ("  - conv2d: {name: c, filters: 8", so
// that the caller may add inputs), or "" for a class repro does not train. What repro does not
// take goes to `unsupported`, prefixed with `where`.
std::string layer_item(const std::string& class_name, const Json& config, const std::string& name,
                       const std::string& where, std::vector<std::string>& unsupported) {
  const auto rule = layer_rules().find(class_name);
  if (rule == layer_rules().end()) {
    std::string known;
    for (const auto& [k, v] : layer_rules()) known += (known.empty() ? "" : ", ") + k;
    unsupported.push_back(where + ": this layer type is not supported (repro trains " + known +
                          ")");
    return "";
  }
  std::string item = "  - " + rule->second.key + ": {name: " + word_or_quoted(name);
  const bool wrapper = class_name == "Bidirectional" || class_name == "TimeDistributed";
  for (const auto& [argument, value] : config.items()) {
    bool passes = false;
    for (const std::string& a : rule->second.arguments) passes = passes || a == argument;
    if (argument == "name") continue;
    if (wrapper && argument == "layer") {  // the wrapped layer as `layer: {lstm: {...}}`
      const std::string inner_class = value.is_object() ? value.value("class_name", "") : "";
      const Json inner = layer_config(value);
      const std::string inner_item =
          layer_item(inner_class, inner, inner.value("name", ""), where + " layer", unsupported);
      if (!inner_item.empty()) item += ", layer: {" + inner_item.substr(4) + "}}";
      continue;
    }
    if (class_name == "Bidirectional" && argument == "backward_layer") {
      // repro runs the layer's own copy backwards; Keras writes that copy here.
      Json forward = config.value("layer", Json::object()), backward = value;
      Json forward_config = layer_config(forward), backward_config = layer_config(backward);
      for (Json* c : {&forward_config, &backward_config}) {
        c->erase("name");
        c->erase("go_backwards");
      }
      if (forward.value("class_name", "") != backward.value("class_name", "") ||
          forward_config != backward_config ||
          layer_config(backward).value("go_backwards", false) != true)
        unsupported.push_back(where +
                              ": a backward_layer other than the layer run backwards is "
                              "not supported");
      continue;
    }
    if (class_name == "Bidirectional" && argument == "merge_mode" && value.is_null()) {
      unsupported.push_back(where +
                            ": merge_mode None (two outputs) is not supported; use "
                            "concat, sum, mul or ave");
      continue;
    }
    if (passes) {
      // Keras's pooling strides null means the pool size, which is repro's default too.
      if (argument == "strides" && value.is_null()) continue;
      // Batch norm's channel axis: -1, or its positive index (3 for images, 1 when flat).
      // Concatenate's axis passes as it is: repro checks it against the input's rank.
      if (class_name == "BatchNormalization" && argument == "axis" && (value == 3 || value == 1)) {
        item += ", axis: -1";
        continue;
      }
      // LayerNormalization's get_config after build holds its sorted axes: [3] (images) or [1]
      // (flat) for the channel axis, repro's -1.
      if (class_name == "LayerNormalization" && argument == "axis") {
        const Json axis = value.is_array() && value.size() == 1 ? value[0] : value;
        if (axis == -1 || axis == 3 || axis == 1) {
          item += ", axis: -1";
          continue;
        }
      }
      if (masks_from_run_seed(class_name) && argument == "seed") continue;
      try {
        item += ", " + argument + ": " + yaml_value(value);
      } catch (const InputError& e) {
        unsupported.push_back(where + ": argument " + argument + ": " + e.what());
      }
    } else if (masks_from_run_seed(class_name) && argument == "seed") {
      if (!value.is_null())
        unsupported.push_back(where + ": argument seed " + short_value(value) +
                              " is not supported (dropout masks come from the run's seed)");
    } else if (!at_default(argument, value)) {
      std::string message = where + ": argument " + clipped(argument, 40) + " " +
                            short_value(value) + " is not supported";
      if (default_hint(argument) != "null" || argument.find("regularizer") != std::string::npos ||
          argument.find("constraint") != std::string::npos || argument == "noise_shape" ||
          argument == "lora_rank" || argument == "quantization_config") {
        message += " (repro takes only " + default_hint(argument) + ")";
      }
      unsupported.push_back(message);
    }
  }
  return item;
}

// A Sequential model: its layers in order, each taking the previous one.
ModelItems sequential_items(const Json& model, std::vector<std::string>& unsupported) {
  ModelItems out;
  if (model.contains("build_input_shape")) take_shape(model["build_input_shape"], out);
  const Json& layers = model["layers"];
  for (size_t i = 0; i < layers.size(); ++i) {
    const Json& layer = layers[i];
    const std::string class_name = layer.is_object() ? layer.value("class_name", "") : "";
    const Json config = layer_config(layer);
    const std::string name = config.value("name", "");
    if (class_name == "InputLayer") {
      take_input_layer_shape(config, out);
      continue;
    }
    const std::string item =
        layer_item(class_name, config, name, keras_layer_where(i, name, class_name), unsupported);
    if (!item.empty()) out.items.push_back(item + "}");
  }
  return out;
}

// A Functional model: its layers in keras_functional_order, each named as in Keras and taking
// what its call took. Every layer is converted, so that one error names every unsupported one.
ModelItems functional_items(const Json& model, std::vector<std::string>& unsupported) {
  ModelItems out;
  const Json& layers = model["layers"];
  std::vector<std::string> items(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const Json& layer = layers[i];
    const std::string class_name = layer.is_object() ? layer.value("class_name", "") : "";
    const Json config = layer_config(layer);
    const std::string name = keras_layer_name(layer);
    if (class_name == "InputLayer")
      take_input_layer_shape(config, out);
    else
      items[i] =
          layer_item(class_name, config, name, keras_layer_where(i, name, class_name), unsupported);
  }
  for (const KerasGraphStep& step : keras_functional_order(model, unsupported)) {
    std::string item = items[step.layer];
    if (!step.inputs.empty()) {
      item += ", inputs: [";
      for (size_t k = 0; k < step.inputs.size(); ++k)
        item += (k ? ", " : "") + word_or_quoted(step.inputs[k]);
      item += "]";
    }
    out.items.push_back(item + "}");
  }
  return out;
}

std::string convert(const ParsedJson& parsed, const std::string& file) {
  const Json& root = parsed.value;
  const std::string class_name = root.is_object() ? root.value("class_name", "") : "";
  // tf.keras before 2.4 wrote a Functional model as class "Model".
  const bool functional = class_name == "Functional" || class_name == "Model";
  if (!root.is_object() || (class_name != "Sequential" && !functional) ||
      !root.contains("config") || !root["config"].is_object() ||
      !root["config"].contains("layers") || !root["config"]["layers"].is_array()) {
    const std::string got = root.is_object() ? quoted_name(class_name) : "no object";
    throw InputError(json_error_at(parsed, "",
                                   "not the JSON of a Keras Sequential or Functional model "
                                   "(expected class_name \"Sequential\" or \"Functional\" with "
                                   "config.layers, got " +
                                       got + "); write it with model.to_json()"));
  }
  const Json& model = root["config"];
  if (model["layers"].empty()) {
    throw InputError(json_error_at(parsed, "/config/layers", "the model has no layers"));
  }
  std::vector<std::string> unsupported;
  const ModelItems converted =
      functional ? functional_items(model, unsupported) : sequential_items(model, unsupported);
  const std::vector<int64_t>& input = converted.input;
  const std::string training =
      training_from_compile_config(root.value("compile_config", Json()), unsupported);
  // 1 channel: MNIST-style data; 3: CIFAR-10's RGB (other RGB data: set data.dataset to npz).
  if (!input.empty() && input[2] != 1 && input[2] != 3) {
    unsupported.push_back("input shape (" + std::to_string(input[0]) + ", " +
                          std::to_string(input[1]) + ", " + std::to_string(input[2]) +
                          "): 1 channel (grayscale) or 3 (RGB) are imported");
  }
  if (!unsupported.empty()) {
    std::string message = file + ": unsupported: ";
    for (size_t i = 0; i < unsupported.size(); ++i) message += (i ? "; " : "") + unsupported[i];
    throw InputError(message);
  }

  const std::string model_name =
      model.value("name", std::string(functional ? "functional" : "sequential"));
  std::string yaml = "# Converted by `repro import keras` from " + one_line(file) + " (model " +
                     clipped(model_name) + ").\n";
  const bool rgb = !input.empty() && input[2] == 3;
  const int native = rgb ? 32 : 28;  // CIFAR-10's or MNIST's images
  const bool resized =
      !input.empty() && (input[0] != native || input[1] != native) && input[0] > 0 && input[1] > 0;
  // A vector input (an embedding's ids): a table's rows, read with dataset csv.
  const bool table = input.empty() && converted.features > 0;
  if (table)
    yaml += "data:  # rows of " + std::to_string(converted.features) +
            " feature columns; point path and label at your table\n"
            "  dataset: csv\n  path: table.csv\n  label: label\n  features: " +
            std::to_string(converted.features) + "\n";
  if (rgb || resized) yaml += "data:\n";
  if (rgb) yaml += "  dataset: cifar10  # 3 channels; for other RGB data use npz, channels: 3\n";
  if (resized)
    yaml += "  resize: [" + std::to_string(input[0]) + ", " + std::to_string(input[1]) + "]\n";
  yaml += "model:\n";
  for (const std::string& item : converted.items) yaml += item + "\n";
  yaml += training;
  // The loader's checks on the result: a value out of range is the input's fault.
  try {
    parse_config(yaml, file + " (converted)");
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (in the config converted from " + file + ")");
  }
  return yaml;
}

}  // namespace

}  // namespace repro
