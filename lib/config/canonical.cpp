// The resolved config in canonical form: every key with its default filled in, each value in one
// spelling, as sorted key paths (flatten_config) or as YAML (to_yaml) that parses back to the same
// config. Both feed run.json and the config hash, so their text is a format promise.
#include <algorithm>
#include <charconv>

#include "config/tree.h"

namespace repro {

namespace config_detail {

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string pair_text(const std::array<int, 2>& pair) {
  std::string out = "[";
  out += std::to_string(pair[0]);
  out += ", ";
  out += std::to_string(pair[1]);
  out += "]";
  return out;
}

}  // namespace config_detail

using config_detail::number_text;
using config_detail::pair_text;

std::string layer_key(LayerKind kind) {
  switch (kind) {
    case LayerKind::conv2d: return "conv2d";
    case LayerKind::max_pooling2d: return "max_pooling2d";
    case LayerKind::dropout: return "dropout";
    case LayerKind::global_average_pooling2d: return "global_average_pooling2d";
    case LayerKind::flatten: return "flatten";
    case LayerKind::dense: return "dense";
    case LayerKind::average_pooling2d: return "average_pooling2d";
    case LayerKind::activation: return "activation";
    case LayerKind::batch_normalization: return "batch_normalization";
    case LayerKind::random_flip: return "random_flip";
    case LayerKind::random_translation: return "random_translation";
    case LayerKind::random_zoom: return "random_zoom";
    case LayerKind::global_max_pooling2d: return "global_max_pooling2d";
    case LayerKind::zero_padding2d: return "zero_padding2d";
    case LayerKind::reshape: return "reshape";
    case LayerKind::layer_normalization: return "layer_normalization";
    case LayerKind::depthwise_conv2d: return "depthwise_conv2d";
    case LayerKind::separable_conv2d: return "separable_conv2d";
    case LayerKind::simple_rnn: return "simple_rnn";
    case LayerKind::lstm: return "lstm";
    case LayerKind::gru: return "gru";
    case LayerKind::permute: return "permute";
    case LayerKind::bidirectional: return "bidirectional";
    case LayerKind::time_distributed: return "time_distributed";
    case LayerKind::embedding: return "embedding";
    case LayerKind::add: return "add";
    case LayerKind::subtract: return "subtract";
    case LayerKind::multiply: return "multiply";
    case LayerKind::average: return "average";
    case LayerKind::maximum: return "maximum";
    case LayerKind::minimum: return "minimum";
    case LayerKind::concatenate: return "concatenate";
  }
  return "";
}

std::string bidirectional_copy_name(const LayerConfig& wrapper, bool backwards) {
  const std::string prefix = backwards ? "backward_" : "forward_";
  const std::string& name = wrapper.wrapped.at(0).name;
  return prefix + (name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name);
}

std::string layer_class_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::conv2d: return "Conv2D";
    case LayerKind::max_pooling2d: return "MaxPooling2D";
    case LayerKind::dropout: return "Dropout";
    case LayerKind::global_average_pooling2d: return "GlobalAveragePooling2D";
    case LayerKind::flatten: return "Flatten";
    case LayerKind::dense: return "Dense";
    case LayerKind::average_pooling2d: return "AveragePooling2D";
    case LayerKind::activation: return "Activation";
    case LayerKind::batch_normalization: return "BatchNormalization";
    case LayerKind::random_flip: return "RandomFlip";
    case LayerKind::random_translation: return "RandomTranslation";
    case LayerKind::random_zoom: return "RandomZoom";
    case LayerKind::global_max_pooling2d: return "GlobalMaxPooling2D";
    case LayerKind::zero_padding2d: return "ZeroPadding2D";
    case LayerKind::reshape: return "Reshape";
    case LayerKind::layer_normalization: return "LayerNormalization";
    case LayerKind::depthwise_conv2d: return "DepthwiseConv2D";
    case LayerKind::separable_conv2d: return "SeparableConv2D";
    case LayerKind::simple_rnn: return "SimpleRNN";
    case LayerKind::lstm: return "LSTM";
    case LayerKind::gru: return "GRU";
    case LayerKind::permute: return "Permute";
    case LayerKind::bidirectional: return "Bidirectional";
    case LayerKind::time_distributed: return "TimeDistributed";
    case LayerKind::embedding: return "Embedding";
    case LayerKind::add: return "Add";
    case LayerKind::subtract: return "Subtract";
    case LayerKind::multiply: return "Multiply";
    case LayerKind::average: return "Average";
    case LayerKind::maximum: return "Maximum";
    case LayerKind::minimum: return "Minimum";
    case LayerKind::concatenate: return "Concatenate";
  }
  return "";
}

std::string activation_name(Activation activation) {
  switch (activation) {
    case Activation::linear: return "linear";
    case Activation::relu: return "relu";
    case Activation::softmax: return "softmax";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::elu: return "elu";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::softplus: return "softplus";
    case Activation::hard_sigmoid: return "hard_sigmoid";
    case Activation::gelu: return "gelu";
    case Activation::gelu_approximate: return "gelu_approximate";
    case Activation::silu: return "silu";
  }
  return "";
}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"adam", "sgd", "rmsprop", "adamw"};
  return names;
}

std::string optimizer_names_text() {
  const std::vector<std::string>& names = optimizer_names();
  std::string text;
  for (size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

// keras.src.utils.naming.to_snake_case: drop non-word characters, then two regex passes, each
// left to right without overlap: "(.)([A-Z][a-z]+)" -> "\1_\2" and "([a-z])([A-Z])" ->
// "\1_\2"; then lower case. Conv2D -> conv2d, RMSprop -> rm_sprop, AdamW -> adam_w.
std::string snake_case(const std::string& name) {
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string word;
  for (const char c : name)
    if (upper(c) || lower(c) || (c >= '0' && c <= '9') || c == '_') word += c;
  std::string first;
  for (size_t i = 0; i < word.size();) {
    if (i + 2 < word.size() && upper(word[i + 1]) && lower(word[i + 2])) {
      first += word[i];
      first += '_';
      first += word[i + 1];
      i += 2;
      while (i < word.size() && lower(word[i])) first += word[i++];
    } else {
      first += word[i++];
    }
  }
  std::string out;
  for (size_t i = 0; i < first.size();) {
    if (i + 1 < first.size() && lower(first[i]) && upper(first[i + 1])) {
      out += first[i];
      out += '_';
      out += first[i + 1];
      i += 2;
    } else {
      out += first[i++];
    }
  }
  for (char& c : out)
    if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string padding_name(Padding padding) { return padding == Padding::same ? "same" : "valid"; }

namespace {

struct Entry {
  std::string key;
  std::string flat;  // the value as flatten_config gives it
  std::string yaml;  // the value as YAML (free text quoted)
};

std::string bool_text(bool value) { return value ? "true" : "false"; }

// A YAML double-quoted scalar: safe for any path or name.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[(c >> 4) & 0xF];
      out += hex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void add_initializer(std::vector<Entry>& out, const std::string& key, const InitializerSpec& spec) {
  out.push_back({key + ".name", spec.name, spec.name});
  for (const std::string& argument : config_detail::initializer_arguments(spec.name)) {
    std::string value;
    if (argument == "seed") value = spec.seed ? std::to_string(*spec.seed) : "null";
    if (argument == "mean") value = number_text(spec.mean);
    if (argument == "stddev") value = number_text(spec.stddev);
    if (argument == "minval") value = number_text(spec.minval);
    if (argument == "maxval") value = number_text(spec.maxval);
    if (argument == "scale") value = number_text(spec.scale);
    if (argument == "mode") value = spec.mode;
    if (argument == "distribution") value = spec.distribution;
    if (argument == "gain") value = number_text(spec.gain);
    if (argument == "value") value = number_text(spec.value);
    out.push_back({key + "." + argument, value, value});
  }
}

std::string factor_text(const std::array<double, 2>& factor) {
  return "[" + number_text(factor[0]) + ", " + number_text(factor[1]) + "]";
}

void add_layer(std::vector<Entry>& out, const std::string& key, const LayerConfig& layer) {
  auto add = [&](const std::string& argument, const std::string& value) {
    out.push_back({key + "." + argument, value, value});
  };
  out.push_back({key + ".name", layer.name, quoted(layer.name)});
  if (!layer.inputs.empty()) {
    std::string names, shown;
    for (const std::string& input : layer.inputs) {
      names += (names.empty() ? "" : ", ") + input;
      shown += (shown.empty() ? "" : ", ") + quoted(input);
    }
    out.push_back({key + ".inputs", "[" + names + "]", "[" + shown + "]"});
  }
  switch (layer.kind) {
    case LayerKind::bidirectional:
    case LayerKind::time_distributed:
      if (layer.kind == LayerKind::bidirectional) add("merge_mode", layer.merge_mode);
      for (const LayerConfig& inner : layer.wrapped)
        add_layer(out, key + ".layer." + layer_key(inner.kind), inner);
      break;
    case LayerKind::concatenate: add("axis", std::to_string(layer.axis)); break;
    case LayerKind::reshape: {
      std::string dims;
      for (int64_t d : layer.target_shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
      add("target_shape", "[" + dims + "]");
      break;
    }
    case LayerKind::permute: {
      std::string dims;
      for (int d : layer.permute_dims) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
      add("dims", "[" + dims + "]");
      break;
    }
    case LayerKind::embedding:
      add("input_dim", std::to_string(layer.input_dim));
      add("output_dim", std::to_string(layer.output_dim));
      add_initializer(out, key + ".embeddings_initializer", layer.embeddings_initializer);
      add("mask_zero", bool_text(layer.mask_zero));
      break;
    case LayerKind::zero_padding2d: {
      const auto& p = layer.zero_padding;
      add("padding", "[[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "], [" +
                         std::to_string(p[2]) + ", " + std::to_string(p[3]) + "]]");
      break;
    }
    case LayerKind::conv2d:
    case LayerKind::dense:
      if (layer.kind == LayerKind::conv2d) {
        add("filters", std::to_string(layer.filters));
        add("kernel_size", pair_text(layer.kernel_size));
        add("strides", pair_text(layer.strides));
        add("padding", padding_name(layer.padding));
      } else {
        add("units", std::to_string(layer.units));
      }
      add("activation", activation_name(layer.activation));
      add("use_bias", bool_text(layer.use_bias));
      add_initializer(out, key + ".kernel_initializer", layer.kernel_initializer);
      add_initializer(out, key + ".bias_initializer", layer.bias_initializer);
      break;
    case LayerKind::depthwise_conv2d:
    case LayerKind::separable_conv2d:
      if (layer.kind == LayerKind::separable_conv2d) add("filters", std::to_string(layer.filters));
      add("kernel_size", pair_text(layer.kernel_size));
      add("strides", pair_text(layer.strides));
      add("padding", padding_name(layer.padding));
      add("depth_multiplier", std::to_string(layer.depth_multiplier));
      add("activation", activation_name(layer.activation));
      add("use_bias", bool_text(layer.use_bias));
      add_initializer(out, key + ".depthwise_initializer", layer.depthwise_initializer);
      if (layer.kind == LayerKind::separable_conv2d)
        add_initializer(out, key + ".pointwise_initializer", layer.pointwise_initializer);
      add_initializer(out, key + ".bias_initializer", layer.bias_initializer);
      break;
    case LayerKind::simple_rnn:
    case LayerKind::lstm:
    case LayerKind::gru:
      add("units", std::to_string(layer.units));
      add("activation", activation_name(layer.activation));
      if (layer.kind != LayerKind::simple_rnn)
        add("recurrent_activation", activation_name(layer.recurrent_activation));
      add("use_bias", bool_text(layer.use_bias));
      add_initializer(out, key + ".kernel_initializer", layer.kernel_initializer);
      add_initializer(out, key + ".recurrent_initializer", layer.recurrent_initializer);
      add_initializer(out, key + ".bias_initializer", layer.bias_initializer);
      if (layer.kind == LayerKind::lstm) add("unit_forget_bias", bool_text(layer.unit_forget_bias));
      add("dropout", number_text(layer.dropout));
      add("recurrent_dropout", number_text(layer.recurrent_dropout));
      if (layer.kind == LayerKind::gru) add("reset_after", bool_text(layer.reset_after));
      add("return_sequences", bool_text(layer.return_sequences));
      add("go_backwards", bool_text(layer.go_backwards));
      break;
    case LayerKind::max_pooling2d:
    case LayerKind::average_pooling2d:
      add("pool_size", pair_text(layer.pool_size));
      add("strides", pair_text(layer.strides));
      add("padding", padding_name(layer.padding));
      break;
    case LayerKind::dropout: add("rate", number_text(layer.rate)); break;
    case LayerKind::activation: add("activation", activation_name(layer.activation)); break;
    case LayerKind::random_flip:
      add("mode", layer.mode);
      add("seed", layer.seed ? std::to_string(*layer.seed) : "null");
      break;
    case LayerKind::random_translation:
    case LayerKind::random_zoom:
      add("height_factor", factor_text(layer.height_factor));
      add("width_factor", layer.width_factor_given ? factor_text(layer.width_factor) : "null");
      add("fill_mode", layer.fill_mode);
      add("interpolation", layer.interpolation);
      add("seed", layer.seed ? std::to_string(*layer.seed) : "null");
      add("fill_value", number_text(layer.fill_value));
      break;
    case LayerKind::batch_normalization:
      add("axis", std::to_string(layer.axis));
      add("momentum", number_text(layer.momentum));
      add("epsilon", number_text(layer.epsilon));
      add("center", bool_text(layer.center));
      add("scale", bool_text(layer.scale));
      add_initializer(out, key + ".beta_initializer", layer.beta_initializer);
      add_initializer(out, key + ".gamma_initializer", layer.gamma_initializer);
      add_initializer(out, key + ".moving_mean_initializer", layer.moving_mean_initializer);
      add_initializer(out, key + ".moving_variance_initializer", layer.moving_variance_initializer);
      break;
    case LayerKind::layer_normalization:
      add("axis", std::to_string(layer.axis));
      add("epsilon", number_text(layer.epsilon));
      add("center", bool_text(layer.center));
      add("scale", bool_text(layer.scale));
      add_initializer(out, key + ".beta_initializer", layer.beta_initializer);
      add_initializer(out, key + ".gamma_initializer", layer.gamma_initializer);
      break;
    default: break;
  }
}

void add_schedule(std::vector<Entry>& out, const std::string& key, const ScheduleConfig& schedule) {
  out.push_back({key + ".name", schedule.name, schedule.name});
  for (const std::string& argument : config_detail::schedule_arguments(schedule.name)) {
    std::string value;
    if (argument == "initial_learning_rate") value = number_text(schedule.initial_learning_rate);
    if (argument == "decay_steps") value = std::to_string(schedule.decay_steps);
    if (argument == "decay_rate") value = number_text(schedule.decay_rate);
    if (argument == "staircase") value = bool_text(schedule.staircase);
    if (argument == "alpha") value = number_text(schedule.alpha);
    if (argument == "boundaries" || argument == "values") {
      value = "[";
      const size_t count =
          argument == "values" ? schedule.values.size() : schedule.boundaries.size();
      for (size_t i = 0; i < count; ++i) {
        if (i) value += ", ";
        value += argument == "values" ? number_text(schedule.values[i])
                                      : std::to_string(schedule.boundaries[i]);
      }
      value += "]";
    }
    out.push_back({key + "." + argument, value, value});
  }
}

// Every key in the order of the documented YAML format.
std::vector<Entry> canonical_entries(const RunConfig& config) {
  std::vector<Entry> out;
  auto add = [&](const std::string& key, const std::string& value) {
    out.push_back({key, value, value});
  };
  auto add_text = [&](const std::string& key, const std::string& value) {
    out.push_back({key, value, quoted(value)});
  };
  auto count_text = [](int value) {
    return value == 0 ? std::string("auto") : std::to_string(value);
  };

  add("seed", std::to_string(config.seed));
  add("rng", config.rng == RngKind::tf ? "tf" : "jax");
  add("determinism", determinism_name(config.determinism));
  add("device", config.device == Device::cuda ? "cuda" : "cpu");
  add("threads", std::to_string(config.threads));
  if (!config.initial_weights.empty()) add_text("initial_weights", config.initial_weights);

  const DataConfig& data = config.data;
  add("data.dataset", data.dataset);
  add_text("data.dir", data.dir);
  if (data.dataset == "npz" || data.dataset == "idx")
    add("data.channels", std::to_string(input_shape(config)[2]));
  if (data.dataset == "csv") {
    add_text("data.path", data.path);
    add_text("data.test_path", data.test_path);
    add_text("data.label", data.label);
    if (data.features > 0) add("data.features", std::to_string(data.features));
  }
  if (data.dataset == "npz") {
    add_text("data.path", data.path);
    const char* names[] = {"x_train", "y_train", "x_test", "y_test"};
    for (int k = 0; k < 4; ++k) add_text(std::string("data.keys.") + names[k], data.keys[k]);
  }
  if (data.dataset == "image_folder") {
    add_text("data.directory", data.directory);
    add_text("data.test_directory", data.test_directory);
    add("data.color_mode", data.color_mode);
    add("data.image_size", pair_text(data.image_size));
  }
  if (data.dataset == "idx") {
    add_text("data.train_images", data.train_images);
    add_text("data.train_labels", data.train_labels);
    add_text("data.test_images", data.test_images);
    add_text("data.test_labels", data.test_labels);
  }
  add("data.limit", std::to_string(data.limit));
  add("data.shuffle", bool_text(data.shuffle));
  add("data.shuffle_buffer", std::to_string(data.shuffle_buffer));
  add("data.reshuffle_each_iteration", bool_text(data.reshuffle_each_iteration));
  add("data.batch_size", std::to_string(data.batch_size));
  add("data.resize", data.resize[0] == 0 && data.resize[1] == 0 ? "null" : pair_text(data.resize));
  if (data.validation_split > 0) add("data.validation_split", number_text(data.validation_split));
  add("data.num_parallel_calls", count_text(data.num_parallel_calls));
  add("data.prefetch", count_text(data.prefetch));

  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& layer = config.model[i];
    add_layer(out, "model." + std::to_string(i) + "." + layer_key(layer.kind), layer);
  }

  const TrainingConfig& training = config.training;
  add("training.epochs", std::to_string(training.epochs));
  const OptimizerConfig& optimizer = training.optimizer;
  add("training.optimizer.name", optimizer.name);
  for (const std::string& argument : config_detail::optimizer_arguments(optimizer.name)) {
    std::string value;
    if (argument == "learning_rate" && !optimizer.schedule.name.empty()) {
      add_schedule(out, "training.optimizer.learning_rate", optimizer.schedule);
      continue;
    }
    if (argument == "learning_rate") value = number_text(optimizer.learning_rate);
    if (argument == "rho") value = number_text(optimizer.rho);
    if (argument == "centered") value = bool_text(optimizer.centered);
    if (argument == "weight_decay") value = number_text(optimizer.weight_decay);
    if (argument == "beta_1") value = number_text(optimizer.beta_1);
    if (argument == "beta_2") value = number_text(optimizer.beta_2);
    if (argument == "epsilon") value = number_text(optimizer.epsilon);
    if (argument == "momentum") value = number_text(optimizer.momentum);
    if (argument == "nesterov") value = bool_text(optimizer.nesterov);
    add("training.optimizer." + argument, value);
  }
  add("training.loss", training.loss);
  std::string metrics;
  for (const std::string& metric : training.metrics) {
    if (!metrics.empty()) metrics += ", ";
    metrics += metric;
  }
  add("training.metrics", "[" + metrics + "]");
  add("training.validation", training.validation_on_test ? "test" : bool_text(training.validation));
  if (training.checkpoint.enabled) {
    const int64_t every = training.checkpoint.every_steps;
    add("training.checkpoint.every", every == 0 ? "epoch" : std::to_string(every));
    add("training.checkpoint.keep", std::to_string(training.checkpoint.keep));
    if (training.checkpoint.best) {
      add("training.checkpoint.best.monitor", training.checkpoint.best_monitor.monitor);
      add("training.checkpoint.best.mode", training.checkpoint.best_monitor.mode);
    }
  } else {
    add("training.checkpoint", "off");
  }
  // The Keras callbacks appear only when on, so configs without them keep their canonical form.
  const EarlyStoppingConfig& stop = training.early_stopping;
  if (stop.enabled) {
    const std::string key = "training.early_stopping.";
    add(key + "monitor", stop.monitor.monitor);
    add(key + "mode", stop.monitor.mode);
    add(key + "min_delta", number_text(stop.min_delta));
    add(key + "patience", std::to_string(stop.patience));
    add(key + "baseline", stop.baseline ? number_text(*stop.baseline) : "null");
    add(key + "restore_best_weights", bool_text(stop.restore_best_weights));
    add(key + "start_from_epoch", std::to_string(stop.start_from_epoch));
  }
  const ReduceLrConfig& reduce = training.reduce_lr_on_plateau;
  if (reduce.enabled) {
    const std::string key = "training.reduce_lr_on_plateau.";
    add(key + "monitor", reduce.monitor.monitor);
    add(key + "mode", reduce.monitor.mode);
    add(key + "factor", number_text(reduce.factor));
    add(key + "patience", std::to_string(reduce.patience));
    add(key + "min_delta", number_text(reduce.min_delta));
    add(key + "cooldown", std::to_string(reduce.cooldown));
    add(key + "min_lr", number_text(reduce.min_lr));
  }
  add("training.log.every", std::to_string(training.log.every));
  if (training.trace.every > 0) {
    add("training.trace.every", std::to_string(training.trace.every));
  } else {
    add("training.trace", "off");
  }
  return out;
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

bool is_index(const std::string& part) {
  return !part.empty() &&
         std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::pair<std::string, std::string>> flatten_config(const RunConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& entry : canonical_entries(config)) out.emplace_back(entry.key, entry.flat);
  std::sort(out.begin(), out.end());
  return out;
}

bool key_changes_results(const std::string& key) {
  auto within = [&](const std::string& prefix) {
    return key == prefix || key.rfind(prefix + ".", 0) == 0;
  };
  return !(key == "threads" || key == "training.epochs" || within("training.checkpoint") ||
           within("training.log") || within("training.trace") || key == "data.num_parallel_calls" ||
           key == "data.prefetch");
}

// Block YAML from the ordered key paths: a numeric part opens a list item ("- "), whose first
// key shares the dash's line.
std::string to_yaml(const RunConfig& config) {
  std::string out;
  std::vector<std::string> open;  // the containers the previous entry sat in
  for (const Entry& entry : canonical_entries(config)) {
    const std::vector<std::string> parts = split_key(entry.key);
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) {
      ++common;
    }
    open.resize(common);
    bool dash = false;
    for (size_t depth = common; depth < parts.size(); ++depth) {
      const std::string& part = parts[depth];
      const bool leaf = depth + 1 == parts.size();
      if (!leaf && is_index(part)) {
        dash = true;
        open.push_back(part);
        continue;
      }
      const size_t indent = 2 * depth - (dash ? 2 : 0);
      out += std::string(indent, ' ') + (dash ? "- " : "") + part + ":";
      out += leaf ? " " + entry.yaml + "\n" : "\n";
      dash = false;
      if (!leaf) open.push_back(part);
    }
  }
  return out;
}

}  // namespace repro
