// validate(): every range and every rule between keys, with the place the key was written
// (or its parent's); and Keras's shape inference for the layer list. Reads no YAML: a config
// built in code gets the same checks, pointing at the file when no place is known.
#include <algorithm>
#include <map>
#include <set>

#include "config/tree.h"
#include "config/vocabulary.h"
#include "core/error.h"

namespace repro {

using config_detail::fail_at;
using config_detail::number_text;
using config_detail::pair_text;

namespace {

// The place of `key`, else of its closest parent that has one, else the file.
SourcePlace place_for(const RunConfig& config, std::string key) {
  while (true) {
    const auto it = config.places.find(key);
    if (it != config.places.end()) return it->second;
    const size_t dot = key.rfind('.');
    if (dot == std::string::npos) break;
    key.resize(dot);
  }
  return SourcePlace{config.path, 0, 0};
}

// Where a layer's keys are written: a layer of the model ("model.3", "model.3.lstm") or the
// layer a wrapper takes ("model.3.bidirectional.layer", "model.3.bidirectional.layer.lstm").
struct LayerSite {
  const LayerConfig& layer;
  std::string item, path;
  std::string what;   // how messages name it: "layer 3 (dense `dense`)", or its path
  bool last = false;  // the model's last layer
};

std::string describe(const RunConfig& config, size_t index);

LayerSite site_of(const RunConfig& config, size_t index) {
  const std::string item = "model." + std::to_string(index);
  return {config.model[index], item, item + "." + layer_key(config.model[index].kind),
          describe(config, index), index + 1 == config.model.size()};
}

LayerSite wrapped_site(const LayerSite& wrapper) {
  const LayerConfig& inner = wrapper.layer.wrapped.at(0);
  const std::string item = wrapper.path + ".layer";
  const std::string path = item + "." + layer_key(inner.kind);
  return {inner, item, path, path, false};
}

// A layer argument's place; a code-built layer falls back to the layer's own place.
// An empty `argument` means the whole layer (its list item).
SourcePlace site_place(const RunConfig& config, const LayerSite& site,
                       const std::string& argument) {
  SourcePlace place = argument.empty() ? place_for(config, site.item)
                                       : place_for(config, site.path + "." + argument);
  const bool nothing_found = place.line == 0 && place.file == config.path;
  if (nothing_found && site.layer.place.line > 0) place = site.layer.place;
  return place;
}

SourcePlace layer_place(const RunConfig& config, size_t index, const std::string& argument) {
  return site_place(config, site_of(config, index), argument);
}

std::string describe(const RunConfig& config, size_t index) {
  return "layer " + std::to_string(index) + " (" + layer_key(config.model[index].kind) + " `" +
         config.model[index].name + "`)";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

std::string range_text(int64_t lo, int64_t hi) {
  return "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
}

void check_value(bool ok, const RunConfig& config, const std::string& key,
                 const std::string& message) {
  if (!ok) fail_at(place_for(config, key), key + " " + message);
}

void check_initializer(const RunConfig& config, const LayerSite& site, const std::string& argument,
                       const InitializerSpec& spec) {
  const std::string key = site.path + "." + argument;
  auto fail = [&](const std::string& sub, const std::string& message) {
    SourcePlace place = place_for(config, key + "." + sub);
    if (place.line == 0 && place.file == config.path) {
      place = site_place(config, site, argument);
    }
    fail_at(place, key + "." + sub + " " + message);
  };
  if (!is_known_initializer(spec.name)) {
    fail("name", "is not a known initializer (got `" + clipped(spec.name) + "`)");
  }
  if (spec.seed && *spec.seed < 0) fail("seed", "must be 0 or more");
  if (spec.name == "random_normal" || spec.name == "truncated_normal") {
    if (!(spec.stddev > 0)) fail("stddev", "must be greater than 0");
  }
  if (spec.name == "random_uniform" && !(spec.minval < spec.maxval)) {
    fail("maxval", "must be greater than minval");
  }
  if (spec.name == "variance_scaling") {
    if (!(spec.scale > 0)) fail("scale", "must be greater than 0 (Keras rejects it too)");
    if (spec.mode != "fan_in" && spec.mode != "fan_out" && spec.mode != "fan_avg") {
      fail("mode", "must be fan_in, fan_out or fan_avg");
    }
    if (spec.distribution != "truncated_normal" && spec.distribution != "untruncated_normal" &&
        spec.distribution != "uniform") {
      fail("distribution", "must be truncated_normal, untruncated_normal or uniform");
    }
  }
}

void check_layer(const RunConfig& config, const LayerSite& site) {
  const LayerConfig& layer = site.layer;
  const std::string& path = site.path;
  auto fail = [&](const std::string& argument, const std::string& message) {
    fail_at(site_place(config, site, argument), path + "." + argument + " " + message);
  };
  auto positive_pair = [&](const std::string& argument, const std::array<int, 2>& pair) {
    if (pair[0] < 1 || pair[1] < 1 || pair[0] > limits::window || pair[1] > limits::window) {
      fail(argument, "must be from 1 to " + std::to_string(limits::window) + " on each side (got " +
                         pair_text(pair) + ")");
    }
  };
  const bool from_file = !config.places.empty();  // then an absent key was never written
  switch (layer.kind) {
    case LayerKind::depthwise_conv2d:
      positive_pair("kernel_size", layer.kernel_size);
      positive_pair("strides", layer.strides);
      break;
    case LayerKind::conv2d:
    case LayerKind::separable_conv2d:
      if (from_file && !config.places.count(path + ".filters")) {
        fail("filters", "is missing; add filters: N (the number of output channels)");
      }
      if (layer.filters < 1 || layer.filters > limits::units) {
        fail("filters", "must be " + range_text(1, limits::units) + " (got " +
                            std::to_string(layer.filters) + ")");
      }
      positive_pair("kernel_size", layer.kernel_size);
      positive_pair("strides", layer.strides);
      break;
    case LayerKind::embedding:
      for (const auto& [key, value] : {std::pair<std::string, int>{"input_dim", layer.input_dim},
                                       {"output_dim", layer.output_dim}})
        if (value < 1)
          fail(key, "is missing; add " + key + ": N (" +
                        (key == "input_dim" ? "the number of ids, the largest id + 1"
                                            : "the values of each id's row") +
                        ")");
      if (layer.mask_zero)
        fail("mask_zero", "true is not supported: repro has no masking; remove it or set false");
      break;
    case LayerKind::permute:
      if (layer.permute_dims.empty())
        fail("dims", "is missing; add dims: [2, 1] (the input axes, 1-based, in their new order)");
      break;
    case LayerKind::reshape:
      if (layer.target_shape.empty())
        fail("target_shape",
             "is missing; add target_shape: [h, w, c] or [f] (-1 once for the rest)");
      break;
    case LayerKind::max_pooling2d:
    case LayerKind::average_pooling2d:
      positive_pair("pool_size", layer.pool_size);
      positive_pair("strides", layer.strides);
      break;
    case LayerKind::dropout:
      if (!(layer.rate >= 0.0 && layer.rate < 1.0)) {
        fail("rate", "must be in [0, 1) (got " + number_text(layer.rate) +
                         "); it is the fraction of inputs dropped");
      }
      break;
    case LayerKind::random_translation:
    case LayerKind::random_zoom:
      if (from_file && !config.places.count(path + ".height_factor")) {
        fail("height_factor", "is missing; add height_factor: 0.1 (a fraction, or [lower, upper])");
      }
      if (layer.kind == LayerKind::random_translation && from_file &&
          !config.places.count(path + ".width_factor")) {
        fail("width_factor", "is missing; add width_factor: 0.1 (a fraction, or [lower, upper])");
      }
      for (const auto& [argument, factor] : {std::pair{"height_factor", layer.height_factor},
                                             std::pair{"width_factor", layer.width_factor}}) {
        if (!(factor[0] >= -1.0 && factor[1] <= 1.0 && factor[0] <= factor[1])) {
          fail(argument, "must lie in [-1, 1] as Keras requires (got [" + number_text(factor[0]) +
                             ", " + number_text(factor[1]) + "])");
        }
      }
      if (layer.seed && *layer.seed < 0) fail("seed", "must be 0 or more");
      break;
    case LayerKind::random_flip:
      if (layer.seed && *layer.seed < 0) fail("seed", "must be 0 or more");
      break;
    case LayerKind::batch_normalization:
      if (layer.axis != -1) {
        fail("axis", "must be -1, the channel axis (got " + std::to_string(layer.axis) + ")");
      }
      if (!(layer.momentum >= 0 && layer.momentum <= 1)) {
        fail("momentum", "must be in [0, 1] (got " + number_text(layer.momentum) + ")");
      }
      if (!(layer.epsilon > 0)) fail("epsilon", "must be greater than 0");
      check_initializer(config, site, "beta_initializer", layer.beta_initializer);
      check_initializer(config, site, "gamma_initializer", layer.gamma_initializer);
      check_initializer(config, site, "moving_mean_initializer", layer.moving_mean_initializer);
      check_initializer(config, site, "moving_variance_initializer",
                        layer.moving_variance_initializer);
      break;
    case LayerKind::layer_normalization:
      if (layer.axis != -1) {
        fail("axis", "must be -1, the channel axis (got " + std::to_string(layer.axis) + ")");
      }
      if (!(layer.epsilon > 0)) fail("epsilon", "must be greater than 0");
      check_initializer(config, site, "beta_initializer", layer.beta_initializer);
      check_initializer(config, site, "gamma_initializer", layer.gamma_initializer);
      break;
    case LayerKind::activation:
      if (from_file && !config.places.count(path + ".activation")) {
        fail("activation", "is missing; add activation: relu (or sigmoid, tanh, softmax, linear)");
      }
      break;
    case LayerKind::simple_rnn:
    case LayerKind::lstm:
    case LayerKind::gru: {
      if (from_file && !config.places.count(path + ".units"))
        fail("units", "is missing; add units: N (the size of the state)");
      if (layer.units < 1 || layer.units > limits::units)
        fail("units", "must be " + range_text(1, limits::units) + " (got " +
                          std::to_string(layer.units) + ")");
      for (const auto& [argument, rate] : {std::pair{"dropout", layer.dropout},
                                           std::pair{"recurrent_dropout", layer.recurrent_dropout}})
        if (!(rate >= 0.0 && rate < 1.0))
          fail(argument, "must be in [0, 1) (got " + number_text(rate) + ")");
      const auto recurrent_ok = [](Activation a) {
        return a == Activation::tanh || a == Activation::sigmoid || a == Activation::relu ||
               a == Activation::linear || a == Activation::hard_sigmoid;
      };
      if (!recurrent_ok(layer.activation))
        fail("activation", "must be tanh, sigmoid, relu, hard_sigmoid or linear for " +
                               layer_key(layer.kind) + " (got " +
                               activation_name(layer.activation) + ")");
      if (layer.kind != LayerKind::simple_rnn && !recurrent_ok(layer.recurrent_activation))
        fail("recurrent_activation", "must be sigmoid, hard_sigmoid, tanh, relu or linear (got " +
                                         activation_name(layer.recurrent_activation) + ")");
      check_initializer(config, site, "kernel_initializer", layer.kernel_initializer);
      check_initializer(config, site, "recurrent_initializer", layer.recurrent_initializer);
      check_initializer(config, site, "bias_initializer", layer.bias_initializer);
      break;
    }
    case LayerKind::dense:
      if (from_file && !config.places.count(path + ".units")) {
        fail("units", "is missing; add units: N (the number of outputs)");
      }
      if (layer.units < 1 || layer.units > limits::units) {
        fail("units", "must be " + range_text(1, limits::units) + " (got " +
                          std::to_string(layer.units) + ")");
      }
      break;
    default: break;
  }
  if (layer.kind == LayerKind::conv2d || layer.kind == LayerKind::dense) {
    check_initializer(config, site, "kernel_initializer", layer.kernel_initializer);
    check_initializer(config, site, "bias_initializer", layer.bias_initializer);
  }
  const bool depthwise =
      layer.kind == LayerKind::depthwise_conv2d || layer.kind == LayerKind::separable_conv2d;
  if (depthwise) {
    check_initializer(config, site, "depthwise_initializer", layer.depthwise_initializer);
    if (layer.kind == LayerKind::separable_conv2d)
      check_initializer(config, site, "pointwise_initializer", layer.pointwise_initializer);
    check_initializer(config, site, "bias_initializer", layer.bias_initializer);
  }
  const bool activates = layer.kind == LayerKind::conv2d || layer.kind == LayerKind::dense ||
                         layer.kind == LayerKind::activation || depthwise;
  if (activates) {
    if (layer.activation == Activation::softmax && !site.last) {
      fail_at(site_place(config, site, "activation"),
              site.what +
                  ": softmax is only allowed on the last layer (the loss "
                  "expects probabilities there only); use relu, sigmoid, "
                  "tanh or linear");
    }
  }
  if (layer.name.empty() || layer.name.find('/') != std::string::npos) {
    fail("name", "must be a non-empty name without `/` (got `" + clipped(layer.name) + "`)");
  }
  const std::vector<LayerKind> wrappable = config_detail::wrappable_kinds(layer.kind);
  if (!wrappable.empty()) {
    std::vector<std::string> names;
    for (const LayerKind kind : wrappable) names.push_back(layer_key(kind));
    const std::string example = "e.g. layer: {" + names.back() + ": {units: 32}}";
    if (layer.wrapped.empty()) fail("layer", "is missing; add the layer it wraps, " + example);
    const LayerSite inner = wrapped_site(site);
    if (std::find(wrappable.begin(), wrappable.end(), inner.layer.kind) == wrappable.end())
      fail_at(site_place(config, inner, ""), path + ".layer is " + layer_key(inner.layer.kind) +
                                                 "; " + layer_key(layer.kind) + " wraps " +
                                                 config_detail::words_text(names));
    if (!inner.layer.inputs.empty())
      fail_at(site_place(config, inner, "inputs"),
              inner.path + ".inputs: a wrapped layer takes the wrapper's input; name inputs on " +
                  path + " instead");
    if (layer.kind == LayerKind::bidirectional && inner.layer.go_backwards)
      fail_at(site_place(config, inner, "go_backwards"),
              inner.path +
                  ".go_backwards must be false: bidirectional runs the layer backwards "
                  "itself (Keras refuses the same)");
    if (layer.kind == LayerKind::bidirectional &&
        std::find(config_detail::merge_modes().begin(), config_detail::merge_modes().end(),
                  layer.merge_mode) == config_detail::merge_modes().end())
      fail("merge_mode", "must be " + config_detail::words_text(config_detail::merge_modes()) +
                             " (got `" + clipped(layer.merge_mode) + "`)");
    check_layer(config, inner);
  }
}

void check_data(const RunConfig& config) {
  const DataConfig& data = config.data;
  const bool idx = data.dataset == "idx";
  const bool npz = data.dataset == "npz";
  const bool cifar = data.dataset == "cifar10";
  const bool folder = data.dataset == "image_folder";
  const bool csv = data.dataset == "csv";
  const std::vector<std::string>& datasets = config_detail::dataset_names();
  check_value(
      std::find(datasets.begin(), datasets.end(), data.dataset) != datasets.end(), config,
      "data.dataset",
      "must be " + config_detail::words_text(datasets) + " (got `" + clipped(data.dataset) + "`)");
  if (csv) {
    check_value(!data.path.empty(), config, "data.dataset",
                "is csv, so data.path must name the table (add data.path: path/to/table.csv)");
    check_value(!data.label.empty(), config, "data.dataset",
                "is csv, so data.label must name the label column (add data.label: COLUMN)");
    check_value(data.channels == 0, config, "data.channels",
                "does not apply to csv, whose rows are vectors; remove it");
    check_value(data.resize[0] == 0 && data.resize[1] == 0, config, "data.resize",
                "does not apply to csv, whose rows are vectors; remove it");
  } else {
    for (const auto& [key, given] : {std::pair<std::string, bool>{"label", !data.label.empty()},
                                     {"test_path", !data.test_path.empty()},
                                     {"features", data.features != 0}})
      check_value(!given, config, "data." + key,
                  "is only read with dataset: csv; remove it or set dataset: csv");
  }
  if (folder) {
    check_value(!data.directory.empty(), config, "data.dataset",
                "is image_folder, so data.directory must name the folder of class folders (add "
                "data.directory: path/to/folder)");
    const std::vector<std::string>& modes = config_detail::color_modes();
    check_value(std::find(modes.begin(), modes.end(), data.color_mode) != modes.end(), config,
                "data.color_mode",
                "must be " + config_detail::words_text(modes) + " (got `" +
                    clipped(data.color_mode) + "`)");
    check_value(data.channels == 0, config, "data.channels",
                "is set by data.color_mode for image_folder; remove it");
    check_value(data.resize[0] == 0 && data.resize[1] == 0, config, "data.resize",
                "does not apply to image_folder, which resizes every image to data.image_size; "
                "remove it");
  } else {
    for (const auto& [key, given] :
         {std::pair<std::string, bool>{"directory", !data.directory.empty()},
          {"test_directory", !data.test_directory.empty()},
          {"color_mode", data.color_mode != "rgb"},
          {"image_size", data.image_size != std::array<int, 2>{256, 256}}})
      check_value(!given, config, "data." + key,
                  "is only read with dataset: image_folder; remove it or set dataset: "
                  "image_folder");
  }
  check_value(idx || npz || folder || csv || data.channels == 0 || data.channels == (cifar ? 3 : 1),
              config, "data.channels",
              "is fixed by dataset " + data.dataset + " (" + (cifar ? "3, RGB" : "1, grayscale") +
                  "); remove it");
  check_value(!npz || !data.path.empty(), config, "data.dataset",
              "is npz, so data.path must name the .npz file (add data.path: path/to/data.npz)");
  check_value(npz || csv || data.path.empty(), config, "data.path",
              "is only read with dataset: npz or csv; remove it or set the dataset");
  const std::vector<std::pair<std::string, std::string>> files = {
      {"train_images", data.train_images},
      {"train_labels", data.train_labels},
      {"test_images", data.test_images},
      {"test_labels", data.test_labels}};
  // idx: the training files always; the test files both or neither (no test split).
  const bool idx_test = !data.test_images.empty() || !data.test_labels.empty();
  for (const auto& [key, value] : files) {
    if (idx && (key.rfind("train", 0) == 0 || idx_test)) {
      check_value(!value.empty(), config, "data.dataset",
                  "is idx, so data." + key + " must name its IDX file (add data." + key +
                      ": path/to/file)");
    } else {
      check_value(value.empty(), config, "data." + key,
                  "is only read with dataset: idx; remove it or set dataset: idx");
    }
  }
  check_value(data.validation_split >= 0 && data.validation_split < 1, config,
              "data.validation_split",
              "must be in [0, 1): the fraction of the training images held out for validation "
              "(got " +
                  number_text(data.validation_split) + ")");
  check_value(data.validation_split == 0 || !config.training.validation_on_test, config,
              "data.validation_split",
              "holds images out for validation, but training.validation: test validates on the "
              "test split; remove one of them");
  check_value(data.limit >= 0 && data.limit <= limits::images, config, "data.limit",
              "must be 0 (all images) or a count, " + range_text(0, limits::images) + " (got " +
                  std::to_string(data.limit) + ")");
  check_value(data.shuffle_buffer >= 0 && data.shuffle_buffer <= limits::images, config,
              "data.shuffle_buffer",
              "must be 0 (the whole training set) or a count, " + range_text(0, limits::images) +
                  " (got " + std::to_string(data.shuffle_buffer) + ")");
  check_value(data.batch_size >= 1 && data.batch_size <= limits::batch_size, config,
              "data.batch_size",
              "must be " + range_text(1, limits::batch_size) + ", e.g. 64 (got " +
                  std::to_string(data.batch_size) + ")");
  const bool no_resize = data.resize[0] == 0 && data.resize[1] == 0;
  const bool good_resize = data.resize[0] >= 1 && data.resize[1] >= 1 &&
                           data.resize[0] <= limits::resize && data.resize[1] <= limits::resize;
  check_value(no_resize || good_resize, config, "data.resize",
              "must be [h, w] with sides from 1 to " + std::to_string(limits::resize) +
                  ", or null to keep 28x28 (got " + pair_text(data.resize) + ")");
  check_value(data.num_parallel_calls >= 0 && data.num_parallel_calls <= limits::workers, config,
              "data.num_parallel_calls",
              "must be auto or a count, " + range_text(1, limits::workers));
  check_value(data.prefetch >= 0 && data.prefetch <= limits::workers, config, "data.prefetch",
              "must be auto or a count, " + range_text(1, limits::workers));
}

void check_schedule(const RunConfig& config, const ScheduleConfig& schedule) {
  const std::string path = "training.optimizer.learning_rate.";
  check_value(!config_detail::schedule_arguments(schedule.name).empty(), config, path + "name",
              "must be exponential_decay, cosine_decay or piecewise_constant_decay (got `" +
                  clipped(schedule.name) + "`)");
  if (schedule.name == "piecewise_constant_decay") {
    check_value(
        !schedule.values.empty() && schedule.values.size() == schedule.boundaries.size() + 1,
        config, path + "values",
        "must hold one value more than boundaries (got " + std::to_string(schedule.values.size()) +
            " values for " + std::to_string(schedule.boundaries.size()) + " boundaries)");
    for (size_t i = 1; i < schedule.boundaries.size(); ++i) {
      check_value(schedule.boundaries[i] > schedule.boundaries[i - 1], config, path + "boundaries",
                  "must be strictly increasing step counts");
    }
    for (double value : schedule.values) {
      check_value(value > 0, config, path + "values", "must all be greater than 0");
    }
    return;
  }
  check_value(
      schedule.initial_learning_rate > 0, config, path + "initial_learning_rate",
      schedule.initial_learning_rate == 0 && !config.places.count(path + "initial_learning_rate")
          ? "is missing; add initial_learning_rate: 0.001"
          : "must be greater than 0");
  check_value(schedule.decay_steps >= 1 && schedule.decay_steps <= limits::steps, config,
              path + "decay_steps",
              schedule.decay_steps == 0 ? "is missing; add decay_steps: N (optimizer steps)"
                                        : "must be " + range_text(1, limits::steps));
  if (schedule.name == "exponential_decay") {
    check_value(schedule.decay_rate > 0, config, path + "decay_rate",
                schedule.decay_rate == 0 && !config.places.count(path + "decay_rate")
                    ? "is missing; add decay_rate: 0.96"
                    : "must be greater than 0");
  }
  if (schedule.name == "cosine_decay") {
    check_value(schedule.alpha >= 0 && schedule.alpha <= 1, config, path + "alpha",
                "must be in [0, 1] (the final fraction of the initial rate)");
  }
}

void check_training(const RunConfig& config) {
  const TrainingConfig& training = config.training;
  const OptimizerConfig& optimizer = training.optimizer;
  check_value(training.epochs >= 1 && training.epochs <= limits::epochs, config, "training.epochs",
              "must be " + range_text(1, limits::epochs) + " (got " +
                  std::to_string(training.epochs) + ")");
  // The Keras callbacks: what they watch must be in the history, and Keras's own refusals.
  auto check_monitor = [&](const MonitorConfig& m, const std::string& key) {
    check_value(m.monitor.rfind("val_", 0) != 0 || training.validation, config, key + ".monitor",
                "is " + m.monitor + ", which needs training.validation: true (or monitor loss)");
  };
  if (training.checkpoint.best)
    check_monitor(training.checkpoint.best_monitor, "training.checkpoint.best");
  if (training.early_stopping.enabled)
    check_monitor(training.early_stopping.monitor, "training.early_stopping");
  const ReduceLrConfig& reduce = training.reduce_lr_on_plateau;
  if (reduce.enabled) {
    check_monitor(reduce.monitor, "training.reduce_lr_on_plateau");
    check_value(reduce.factor > 0 && reduce.factor < 1, config,
                "training.reduce_lr_on_plateau.factor",
                "must be above 0 and below 1 (Keras refuses a factor >= 1.0; got " +
                    number_text(reduce.factor) + ")");
    check_value(reduce.min_lr >= 0, config, "training.reduce_lr_on_plateau.min_lr",
                "must be at least 0 (got " + number_text(reduce.min_lr) + ")");
    check_value(optimizer.schedule.name.empty(), config, "training.reduce_lr_on_plateau",
                "cannot change a learning rate that follows a schedule (" +
                    optimizer.schedule.name + "); give a constant learning_rate");
  }
  const bool adam = optimizer.name == "adam" || optimizer.name == "adamw";
  const std::vector<std::string>& names = optimizer_names();
  check_value(std::find(names.begin(), names.end(), optimizer.name) != names.end(), config,
              "training.optimizer.name",
              "must be " + optimizer_names_text() + " (got `" + clipped(optimizer.name) + "`)");
  if (optimizer.schedule.name.empty()) {
    check_value(optimizer.learning_rate > 0, config, "training.optimizer.learning_rate",
                "must be greater than 0");
  } else {
    check_schedule(config, optimizer.schedule);
  }
  if (optimizer.name == "rmsprop") {
    check_value(optimizer.rho >= 0 && optimizer.rho < 1, config, "training.optimizer.rho",
                "must be in [0, 1)");
    check_value(optimizer.momentum >= 0 && optimizer.momentum < 1, config,
                "training.optimizer.momentum", "must be in [0, 1)");
    check_value(optimizer.epsilon > 0, config, "training.optimizer.epsilon",
                "must be greater than 0");
  } else if (adam) {
    if (optimizer.name == "adamw") {
      check_value(optimizer.weight_decay >= 0, config, "training.optimizer.weight_decay",
                  "must be 0 or more");
    }
    check_value(optimizer.beta_1 >= 0 && optimizer.beta_1 < 1, config, "training.optimizer.beta_1",
                "must be in [0, 1)");
    check_value(optimizer.beta_2 >= 0 && optimizer.beta_2 < 1, config, "training.optimizer.beta_2",
                "must be in [0, 1)");
    check_value(optimizer.epsilon > 0, config, "training.optimizer.epsilon",
                "must be greater than 0");
  } else {
    check_value(optimizer.momentum >= 0 && optimizer.momentum <= 1, config,
                "training.optimizer.momentum", "must be in [0, 1] (Keras rejects it too)");
  }
  check_value(training.loss == config_detail::loss_names().front(), config, "training.loss",
              "must be sparse_categorical_crossentropy, the only loss repro trains with (got `" +
                  clipped(training.loss) + "`)");
  std::set<std::string> seen;
  for (const std::string& metric : training.metrics) {
    check_value(metric == config_detail::metric_names().front(), config, "training.metrics",
                "may only hold accuracy (got `" + clipped(metric) + "`)");
    check_value(seen.insert(metric).second, config, "training.metrics",
                "names accuracy twice; keep one");
  }
  const CheckpointConfig& checkpoint = training.checkpoint;
  if (checkpoint.enabled) {
    check_value(checkpoint.every_steps >= 0 && checkpoint.every_steps <= limits::steps, config,
                "training.checkpoint.every",
                "must be epoch or a number of steps, " + range_text(1, limits::steps));
    check_value(checkpoint.keep >= 1 && checkpoint.keep <= limits::keep, config,
                "training.checkpoint.keep",
                "must be " + range_text(1, limits::keep) + " (got " +
                    std::to_string(checkpoint.keep) + ")");
  }
  check_value(training.log.every >= 0 && training.log.every <= limits::steps, config,
              "training.log.every",
              "must be a number of steps, " + range_text(0, limits::steps) + " (0: no steps.csv)");
  check_value(training.trace.every >= 0 && training.trace.every <= limits::steps, config,
              "training.trace.every",
              "must be a number of steps, " + range_text(1, limits::steps) +
                  "; to turn tracing off, remove trace");
}

}  // namespace

bool flat_input(const RunConfig& config) { return config.data.dataset == "csv"; }

std::array<int, 3> input_shape(const RunConfig& config) {
  const DataConfig& data = config.data;
  // A table's row: (1, 1, features) as the pipeline lays it out, a vector to the model (1 while
  // the header is unread: only the first layer's weights depend on it).
  if (flat_input(config)) return {1, 1, std::max(data.features, 1)};
  const bool cifar = data.dataset == "cifar10";
  if (data.dataset == "image_folder")
    return {data.image_size[0], data.image_size[1], data.color_mode == "grayscale" ? 1 : 3};
  const int channels = cifar ? 3 : data.channels > 0 ? data.channels : 1;
  if (data.resize[0] > 0 && data.resize[1] > 0) return {data.resize[0], data.resize[1], channels};
  // MNIST and Fashion-MNIST 28x28, CIFAR-10 32x32; npz and idx files are checked when read.
  return cifar ? std::array<int, 3>{32, 32, channels} : std::array<int, 3>{28, 28, channels};
}

WindowExtent window_extent(int64_t in, int64_t k, int64_t stride, Padding padding) {
  WindowExtent e;
  if (padding == Padding::same) {
    e.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((e.out - 1) * stride + k - in, 0);
    e.pad_before = total / 2;
    e.pad_after = total - e.pad_before;
  } else {
    e.out = in >= k ? (in - k) / stride + 1 : 0;
  }
  return e;
}

bool is_merge(LayerKind kind) {
  return kind == LayerKind::add || kind == LayerKind::subtract || kind == LayerKind::multiply ||
         kind == LayerKind::average || kind == LayerKind::maximum || kind == LayerKind::minimum ||
         kind == LayerKind::concatenate;
}

bool is_graph(const RunConfig& config) {
  for (const LayerConfig& layer : config.model)
    if (!layer.inputs.empty()) return true;
  return false;
}

std::vector<std::vector<int>> layer_inputs(const RunConfig& config) {
  std::map<std::string, int> earlier = {{"input", -1}};
  std::vector<std::vector<int>> inputs;
  std::vector<int> uses(config.model.size(), 0);
  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& layer = config.model[i];
    auto fail = [&](const std::string& message) {
      fail_at(layer_place(config, i, layer.inputs.empty() ? "" : "inputs"),
              describe(config, i) + " " + message);
    };
    if (layer.name == "input")
      fail_at(layer_place(config, i, "name"), describe(config, i) +
                                                  " is named `input`, the model input's name; "
                                                  "rename it");
    std::vector<int> from;
    if (layer.inputs.empty()) {
      from.push_back(static_cast<int>(i) - 1);
    } else {
      for (const std::string& name : layer.inputs) {
        const auto found = earlier.find(name);
        if (found == earlier.end()) {
          bool later = false;
          for (size_t j = i; j < config.model.size(); ++j)
            later = later || config.model[j].name == name;
          fail("takes `" + clipped(name) + "`, " +
               (later ? std::string("which comes at or after it; list every layer after the "
                                    "layers it takes (a graph cannot loop)")
                      : std::string("which is no layer's name (nor `input`, the model's input)")));
        }
        from.push_back(found->second);
      }
    }
    if (is_merge(layer.kind) && from.size() < 2)
      fail("merges its inputs, so it needs two or more; name them with inputs: [a, b]");
    if (!is_merge(layer.kind) && from.size() != 1)
      fail(
          "takes one input; give inputs a single name, or merge the branches first (add, "
          "concatenate, ...)");
    for (int p : from)
      if (p >= 0) uses[static_cast<size_t>(p)] += 1;
    earlier[layer.name] = static_cast<int>(i);
    inputs.push_back(std::move(from));
  }
  for (size_t i = 0; i + 1 < config.model.size(); ++i)
    if (uses[i] == 0)
      fail_at(
          layer_place(config, i, ""),
          describe(config, i) + "'s output is taken by no later layer, so it cannot reach the " +
              "model's output (the last layer); remove it or name it in a later layer's inputs");
  return inputs;
}

std::vector<int64_t> reshape_target(int64_t size, const std::vector<int64_t>& target) {
  int64_t known = 1;
  int unknown = -1;
  for (size_t k = 0; k < target.size(); ++k) {
    if (target[k] == -1) {
      if (unknown >= 0) return {};
      unknown = static_cast<int>(k);
    } else {
      if (target[k] < 1 || known > size) return {};
      known *= target[k];
    }
  }
  std::vector<int64_t> out = target;
  if (unknown >= 0) {
    if (known == 0 || size % known != 0) return {};
    out[size_t(unknown)] = size / known;
  } else if (known != size) {
    return {};
  }
  return out;
}

std::vector<LayerShape> infer_shapes(const RunConfig& config) {
  const std::array<int, 3> input = input_shape(config);
  std::vector<int64_t> input_dims{input[0], input[1], input[2]};  // (H, W, C) or (N)
  if (flat_input(config)) input_dims = {input[2]};
  const std::vector<std::vector<int>> graph = layer_inputs(config);
  std::vector<LayerShape> shapes;
  const auto output_of = [&](int p) { return p < 0 ? input_dims : shapes[size_t(p)].output; };
  const auto name_of = [&](int p) {
    return p < 0 ? std::string("input") : config.model[size_t(p)].name;
  };
  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& layer = config.model[i];
    auto fail = [&](const std::string& argument, const std::string& message) {
      fail_at(layer_place(config, i, argument), describe(config, i) + " " + message);
    };
    std::vector<int64_t> shape = output_of(graph[i][0]);
    if (is_merge(layer.kind)) {
      // Keras's merge layers: the same shape from every input; concatenate: the same but on
      // the channel axis (the last), whose sizes add up.
      const bool concat = layer.kind == LayerKind::concatenate;
      if (concat && layer.axis != -1 && layer.axis != static_cast<int>(shape.size()))
        fail("axis", "must be -1 (the channel axis), the only one supported (got " +
                         std::to_string(layer.axis) + ")");
      for (size_t k = 1; k < graph[i].size(); ++k) {
        const std::vector<int64_t>& other = output_of(graph[i][k]);
        bool fits = other.size() == shape.size();
        for (size_t d = 0; fits && d < shape.size(); ++d)
          fits = other[d] == shape[d] || (concat && d + 1 == shape.size());
        if (!fits)
          fail("inputs",
               "cannot merge `" + name_of(graph[i][0]) + "` " + shape_text(output_of(graph[i][0])) +
                   " with `" + name_of(graph[i][k]) + "` " + shape_text(other) +
                   (concat ? "; all but the last axis must agree" : "; the shapes must be equal"));
        if (concat) shape.back() += other.back();
      }
    }
    const bool image = shape.size() == 3, sequence = shape.size() == 2;
    // A wrapper's shapes follow the layer it wraps (validate checked that it has one).
    const bool wrapper = !config_detail::wrappable_kinds(layer.kind).empty();
    const LayerConfig& inner = wrapper ? layer.wrapped.at(0) : layer;
    const bool recurrent = inner.kind == LayerKind::simple_rnn || inner.kind == LayerKind::lstm ||
                           inner.kind == LayerKind::gru;
    const bool timewise = layer.kind == LayerKind::time_distributed;
    if ((recurrent || timewise) && !sequence)
      fail("", "needs a sequence input (timesteps, features) but gets " + shape_text(shape) +
                   "; reshape it first, e.g. `- reshape: {target_shape: [28, 28]}` for 28 x 28 "
                   "images read row by row");
    if (layer.kind == LayerKind::embedding) {
      if (shape.size() != 1)
        fail("", "takes a vector of token ids per sample but gets " + shape_text(shape) +
                     "; give it the model's input from dataset: csv (one id per feature column), "
                     "or flatten it first");
      // The ids pass no gradient back: a layer with weights before it would never learn.
      std::vector<int> pending = graph[i];
      std::set<int> seen;
      while (!pending.empty()) {
        const int p = pending.back();
        pending.pop_back();
        if (p < 0 || !seen.insert(p).second) continue;
        if (shapes[size_t(p)].params > shapes[size_t(p)].non_trainable)
          fail("", "comes after " + describe(config, size_t(p)) +
                       ", whose weights would never learn: an embedding passes no gradient to "
                       "its ids; move the embedding before it, or take the ids from the model's "
                       "input");
        for (int q : graph[size_t(p)]) pending.push_back(q);
      }
    }
    const bool any_shape = recurrent || timewise || is_merge(layer.kind) ||
                           layer.kind == LayerKind::flatten || layer.kind == LayerKind::reshape ||
                           layer.kind == LayerKind::permute || layer.kind == LayerKind::dropout ||
                           layer.kind == LayerKind::activation;
    if (sequence && (!any_shape || layer.kind == LayerKind::concatenate))
      fail("", "gets the sequence " + shape_text(shape) +
                   ", which it does not take; end the recurrent layer with return_sequences: "
                   "false, flatten the sequence first, or (dense) wrap it in time_distributed");
    const bool pooling =
        layer.kind == LayerKind::max_pooling2d || layer.kind == LayerKind::average_pooling2d;
    const bool augmentation = layer.kind == LayerKind::random_flip ||
                              layer.kind == LayerKind::random_translation ||
                              layer.kind == LayerKind::random_zoom;
    const bool windowed = layer.kind == LayerKind::conv2d ||
                          layer.kind == LayerKind::depthwise_conv2d ||
                          layer.kind == LayerKind::separable_conv2d;
    const bool spatial =
        windowed || pooling || augmentation || layer.kind == LayerKind::global_average_pooling2d ||
        layer.kind == LayerKind::global_max_pooling2d || layer.kind == LayerKind::zero_padding2d;
    if (spatial && !image) {
      fail("", "needs an image input (H, W, C) but gets " + shape_text(shape) +
                   " after flatten or global pooling; move it before them");
    }
    if (layer.kind == LayerKind::dense && image) {
      fail("", "gets the 3-D input " + shape_text(shape) +
                   "; add `- flatten: {}` or `- global_average_pooling2d: {}` before it");
    }
    LayerShape out{layer.name, layer_class_name(layer.kind), graph[i], shape, 0};
    if (windowed || pooling) {
      const bool conv = windowed;
      const std::array<int, 2> window = conv ? layer.kernel_size : layer.pool_size;
      const std::string window_key = conv ? "kernel_size" : "pool_size";
      for (int d = 0; d < 2; ++d) {
        const int64_t in = shape[d], k = window[d], s = layer.strides[d];
        if (layer.padding == Padding::valid && k > in) {
          fail(window_key, "has " + window_key + " " + pair_text(window) +
                               ", larger than its input " + shape_text(shape) +
                               "; use a smaller one, padding: same, or a larger data.resize");
        }
        out.output[d] = window_extent(in, k, s, layer.padding).out;
      }
      const int64_t taps = int64_t{window[0]} * window[1], in = shape[2];
      if (layer.kind != LayerKind::conv2d && !pooling &&
          in * layer.depth_multiplier > limits::units)
        fail("depth_multiplier", "gives " + std::to_string(in) + " x " +
                                     std::to_string(layer.depth_multiplier) +
                                     " channels, more than " + std::to_string(limits::units) +
                                     "; use a smaller depth_multiplier");
      if (layer.kind == LayerKind::conv2d) {
        out.output[2] = layer.filters;
        out.params = taps * in * layer.filters + (layer.use_bias ? layer.filters : 0);
      } else if (layer.kind == LayerKind::depthwise_conv2d) {
        out.output[2] = in * layer.depth_multiplier;
        out.params = taps * out.output[2] + (layer.use_bias ? out.output[2] : 0);
      } else if (layer.kind == LayerKind::separable_conv2d) {
        const int64_t middle = in * layer.depth_multiplier;
        out.output[2] = layer.filters;
        out.params = taps * middle + middle * layer.filters + (layer.use_bias ? layer.filters : 0);
      }
    } else if (layer.kind == LayerKind::global_average_pooling2d ||
               layer.kind == LayerKind::global_max_pooling2d) {
      out.output = {shape[2]};
    } else if (layer.kind == LayerKind::reshape) {
      int64_t size = 1;
      for (int64_t d : shape) size *= d;
      out.output = reshape_target(size, layer.target_shape);
      if (out.output.empty()) {
        std::string dims;
        for (int64_t d : layer.target_shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
        fail("target_shape", "is [" + dims + "], which cannot hold the " + std::to_string(size) +
                                 " values of its input " + shape_text(shape));
      }
    } else if (layer.kind == LayerKind::permute) {
      std::vector<int> sorted = layer.permute_dims;
      std::sort(sorted.begin(), sorted.end());
      bool permutation = sorted.size() == shape.size();
      for (size_t d = 0; permutation && d < sorted.size(); ++d)
        permutation = sorted[d] == int(d) + 1;
      if (!permutation) {
        std::string dims;
        for (int d : layer.permute_dims) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
        fail("dims", "dims [" + dims + "] is not an order of the " + std::to_string(shape.size()) +
                         " axes of its input " + shape_text(shape) +
                         " (1-based: [2, 1] swaps two)");
      }
      for (size_t d = 0; d < shape.size(); ++d)
        out.output[d] = shape[size_t(layer.permute_dims[d] - 1)];
    } else if (layer.kind == LayerKind::embedding) {
      out.output = {shape[0], layer.output_dim};
      out.params = int64_t{layer.input_dim} * layer.output_dim;
    } else if (layer.kind == LayerKind::zero_padding2d) {
      const auto& p = layer.zero_padding;
      out.output = {shape[0] + p[0] + p[1], shape[1] + p[2] + p[3], shape[2]};
    } else if (recurrent) {
      const int64_t gates = inner.kind == LayerKind::lstm  ? 4
                            : inner.kind == LayerKind::gru ? 3
                                                           : 1;
      const int64_t units = inner.units;
      const int64_t biases = inner.kind == LayerKind::gru && inner.reset_after ? 2 : 1;
      out.output = inner.return_sequences ? std::vector<int64_t>{shape[0], units}
                                          : std::vector<int64_t>{units};
      out.params =
          gates * units * (shape[1] + units) + (inner.use_bias ? biases * gates * units : 0);
      if (layer.kind == LayerKind::bidirectional) {  // a forward and a backward copy
        out.params *= 2;
        if (layer.merge_mode == "concat") out.output.back() *= 2;
      }
    } else if (timewise) {  // time_distributed(dense): the dense on every timestep
      out.output = {shape[0], inner.units};
      out.params = shape[1] * inner.units + (inner.use_bias ? inner.units : 0);
    } else if (layer.kind == LayerKind::flatten) {
      int64_t size = 1;
      for (int64_t d : shape) size *= d;
      out.output = {size};
    } else if (layer.kind == LayerKind::dense) {
      out.output = {layer.units};
      out.params = shape[0] * layer.units + (layer.use_bias ? layer.units : 0);
    } else if (layer.kind == LayerKind::batch_normalization) {
      const int64_t channels = shape.back();
      out.non_trainable = 2 * channels;  // moving mean and variance
      out.params = out.non_trainable + (layer.center ? channels : 0) + (layer.scale ? channels : 0);
    } else if (layer.kind == LayerKind::layer_normalization) {
      const int64_t channels = shape.back();
      out.params = (layer.center ? channels : 0) + (layer.scale ? channels : 0);
    }
    shapes.push_back(out);
  }
  return shapes;
}

void validate(const RunConfig& config) {
  check_value(config.seed >= 0, config, "seed",
              "must be 0 or more (got " + std::to_string(config.seed) + ")");
  check_value(config.threads >= 0 && config.threads <= limits::threads, config, "threads",
              "must be 0 (all cores) or a thread count, " + range_text(0, limits::threads) +
                  " (got " + std::to_string(config.threads) + ")");
  check_data(config);
  check_training(config);

  if (config.model.empty()) {
    fail_at(place_for(config, "model"),
            "the model has no layers; add model: with a list of layers, e.g. "
            "`- dense: {units: 10, activation: softmax}` (see configs/mnist_recipe.yaml)");
  }
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < config.model.size(); ++i) {
    check_layer(config, site_of(config, i));
    const auto [it, fresh] = names.emplace(config.model[i].name, i);
    if (!fresh) {
      fail_at(layer_place(config, i, "name"),
              "layer name `" + config.model[i].name + "` is used by layers " +
                  std::to_string(it->second) + " and " + std::to_string(i) +
                  "; names must be unique, so rename one of them (name: ...)");
    }
  }

  const std::vector<LayerShape> shapes = infer_shapes(config);
  const size_t last = config.model.size() - 1;
  const std::vector<int64_t>& output = shapes.back().output;
  if (output.size() != 1) {
    fail_at(layer_place(config, last, ""),
            "the model must end in a 1-D output, one value per class (it ends in " +
                shape_text(output) + "); end it with flatten and a dense layer");
  }
  const bool ten_classes = config.data.dataset == "mnist" ||
                           config.data.dataset == "fashion_mnist" ||
                           config.data.dataset == "cifar10";
  if (ten_classes && output[0] < 10) {
    fail_at(layer_place(config, last, "units"),
            describe(config, last) + " gives " + std::to_string(output[0]) + " outputs but " +
                config.data.dataset + " has 10 classes; give the last layer units: 10");
  }
}

}  // namespace repro
