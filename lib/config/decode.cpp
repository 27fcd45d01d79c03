// Reads the config tree into RunConfig: key names, value types and the closed vocabularies
// (layers, activations, padding, initializer and optimizer names), recording every key's place.
// Ranges and rules between keys are validate()'s job, so code-built configs get the same checks.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "config/tree.h"
#include "config/vocabulary.h"
#include "core/error.h"

namespace repro::config_detail {

void fail_at(const SourcePlace& place, const std::string& message) {
  throw InputError(at_place(place.file, place.line, place.col, message));
}

const std::vector<std::string>& initializer_arguments(const std::string& name) {
  static const std::vector<std::string> none, seed_only{"seed"}, normal{"mean", "stddev", "seed"},
      uniform{"minval", "maxval", "seed"}, orthogonal{"gain", "seed"},
      variance{"scale", "mode", "distribution", "seed"}, constant{"value"};
  if (name == "zeros" || name == "ones") return none;
  if (name == "constant") return constant;
  if (name == "random_normal" || name == "truncated_normal") return normal;
  if (name == "random_uniform") return uniform;
  if (name == "orthogonal") return orthogonal;
  if (name == "variance_scaling") return variance;
  return seed_only;  // glorot_*, he_*, lecun_*
}

const std::vector<std::string>& optimizer_arguments(const std::string& name) {
  static const std::vector<std::string> adam{"learning_rate", "beta_1", "beta_2", "epsilon"},
      sgd{"learning_rate", "momentum", "nesterov"},
      rmsprop{"learning_rate", "rho", "momentum", "epsilon", "centered"},
      adamw{"learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon"};
  if (name == "sgd") return sgd;
  if (name == "rmsprop") return rmsprop;
  if (name == "adamw") return adamw;
  return adam;
}

const std::vector<std::string>& schedule_arguments(const std::string& name) {
  static const std::vector<std::string> exponential{"initial_learning_rate", "decay_steps",
                                                    "decay_rate", "staircase"},
      cosine{"initial_learning_rate", "decay_steps", "alpha"}, piecewise{"boundaries", "values"},
      none;
  if (name == "exponential_decay") return exponential;
  if (name == "cosine_decay") return cosine;
  if (name == "piecewise_constant_decay") return piecewise;
  return none;
}

namespace {

using Type = ConfigNode::Type;

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

bool contains(const std::vector<std::string>& words, const std::string& word) {
  for (const std::string& w : words) {
    if (w == word) return true;
  }
  return false;
}

// How a value reads in a message: `abc`, a list, a map, nothing.
std::string shown(const ConfigNode& node) {
  switch (node.type) {
    case Type::scalar:
      return node.quoted ? "the string \"" + clipped(node.scalar) + "\""
                         : "`" + clipped(node.scalar) + "`";
    case Type::list: return "a list";
    case Type::map: return "a map";
    default: return "nothing";
  }
}

// Keras's initializer lookup: snake_case names, class names and its few aliases.
std::string canonical_initializer(const std::string& name) {
  const std::string snake = snake_case(name);
  if (snake == "uniform") return "random_uniform";
  if (snake == "normal") return "random_normal";
  if (snake == "one") return "ones";
  if (snake == "zero") return "zeros";
  if (snake == "orthogonal_initializer") return "orthogonal";
  return snake;
}

struct Reader {
  std::map<std::string, SourcePlace>& places;

  void remember(const std::string& path, const ConfigNode& node) { places[path] = node.place; }

  // Rejects keys outside `valid`, naming the key and listing the valid ones.
  void only_keys(const ConfigNode& map, const std::string& where,
                 const std::vector<std::string>& valid) {
    for (const MapEntry& entry : map.entries) {
      if (!contains(valid, entry.key)) {
        fail_at(entry.key_place, "unknown key `" + clipped(entry.key) + "` in " + where +
                                     "; valid keys: " + join(valid));
      }
    }
  }

  const ConfigNode& map_of(const ConfigNode& node, const std::string& path,
                           const std::string& example) {
    if (node.type != Type::map && node.type != Type::null) {
      fail_at(node.place,
              path + " must be a map of keys, e.g. " + example + " (got " + shown(node) + ")");
    }
    remember(path, node);
    return node;
  }

  const ConfigNode& scalar_of(const ConfigNode& node, const std::string& path,
                              const std::string& kind) {
    if (node.type != Type::scalar) {
      fail_at(node.place, path + " must be " + kind + " (got " + shown(node) + ")");
    }
    remember(path, node);
    return node;
  }

  // An integer from `lo` to `hi`; anything else (a fraction, a word, a number past 64 bits)
  // is an error that states the allowed range.
  int64_t integer(const ConfigNode& node, const std::string& path, int64_t lo, int64_t hi) {
    const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    const ConfigNode& s = scalar_of(node, path, range);
    int64_t value = 0;
    const char* end = s.scalar.data() + s.scalar.size();
    const auto [ptr, ec] = std::from_chars(s.scalar.data(), end, value);
    if (!s.quoted && ec == std::errc::result_out_of_range && ptr == end) {
      fail_at(s.place, path + " must be " + range + " (got " + shown(s) +
                           ", past the 64-bit integer range)");
    }
    if (s.quoted || ec != std::errc() || ptr != end || value < lo || value > hi) {
      fail_at(s.place, path + " must be " + range + " (got " + shown(s) + ")");
    }
    return value;
  }

  int int32(const ConfigNode& node, const std::string& path, int lo, int hi) {
    return static_cast<int>(integer(node, path, lo, hi));
  }

  double number(const ConfigNode& node, const std::string& path) {
    const ConfigNode& s = scalar_of(node, path, "a number");
    double value = 0;
    const char* end = s.scalar.data() + s.scalar.size();
    const auto [ptr, ec] = std::from_chars(s.scalar.data(), end, value);
    if (s.quoted || ec != std::errc() || ptr != end || !std::isfinite(value)) {
      fail_at(s.place, path + " must be a finite number (got " + shown(s) + ")");
    }
    return value;
  }

  bool boolean(const ConfigNode& node, const std::string& path) {
    const ConfigNode& s = scalar_of(node, path, "true or false");
    if (!s.quoted && contains(boolean_words(true), s.scalar)) return true;
    if (!s.quoted && contains(boolean_words(false), s.scalar)) return false;
    fail_at(s.place, path + " must be true or false (also on/off; got " + shown(s) + ")");
  }

  std::string text(const ConfigNode& node, const std::string& path) {
    return scalar_of(node, path, "a string").scalar;
  }

  std::string word(const ConfigNode& node, const std::string& path,
                   const std::vector<std::string>& valid) {
    const std::string value = text(node, path);
    if (!contains(valid, value)) {
      fail_at(node.place, path + " must be one of " + join(valid) + " (got " + shown(node) + ")");
    }
    return value;
  }

  // An int for both sides or [h, w], as Keras's kernel_size, strides and pool_size.
  std::array<int, 2> pair(const ConfigNode& node, const std::string& path, int lo, int hi) {
    if (node.type == Type::scalar) {
      const int value = int32(node, path, lo, hi);
      return {value, value};
    }
    if (node.type != Type::list || node.items.size() != 2) {
      fail_at(node.place, path + " must be an integer or [h, w] (got " + shown(node) + ")");
    }
    std::array<int, 2> value{int32(node.items[0], path + "[0]", lo, hi),
                             int32(node.items[1], path + "[1]", lo, hi)};
    remember(path, node);  // the list, not its last item
    return value;
  }

  // Keras's augmentation factors: a number f means [-|f|, |f|], a pair [a, b] is sorted.
  std::array<double, 2> factor(const ConfigNode& node, const std::string& path) {
    if (node.type == Type::scalar) {
      const double f = std::fabs(number(node, path));
      return {-f, f};
    }
    if (node.type != Type::list || node.items.size() != 2) {
      fail_at(node.place, path + " must be a number or [lower, upper] (got " + shown(node) + ")");
    }
    double a = number(node.items[0], path + "[0]"), b = number(node.items[1], path + "[1]");
    remember(path, node);
    if (a > b) std::swap(a, b);
    return {a, b};
  }

  // `auto` -> 0, else a count of at least 1.
  int auto_or_count(const ConfigNode& node, const std::string& path) {
    if (node.type == Type::scalar && !node.quoted && node.scalar == "auto") {
      remember(path, node);
      return 0;
    }
    if (node.type != Type::scalar) {
      fail_at(node.place, path + " must be auto or a positive count (got " + shown(node) + ")");
    }
    return int32(node, path, 1, limits::workers);
  }

  // A map without `name` keeps the layer's default initializer (glorot_uniform or zeros).
  InitializerSpec initializer(const ConfigNode& node, const std::string& path,
                              const std::string& default_name) {
    InitializerSpec spec;
    spec.name = default_name;
    const ConfigNode* name_node = &node;
    if (node.type == Type::map) {
      remember(path, node);
      name_node = nullptr;
      for (const MapEntry& entry : node.entries) {
        if (entry.key == "name") name_node = &entry.value;
      }
    } else if (node.type != Type::scalar) {
      fail_at(node.place, path + " must be an initializer name or {name: ..., seed: ...} (got " +
                              shown(node) + ")");
    }
    if (name_node) spec.name = canonical_initializer(text(*name_node, path + ".name"));
    if (name_node && !is_known_initializer(spec.name)) {
      fail_at(name_node->place, "unknown initializer `" + clipped(name_node->scalar) + "` in " +
                                    path + "; valid names: " + join(initializer_names()));
    }
    if (node.type != Type::map) return spec;

    std::vector<std::string> valid{"name"};
    for (const std::string& arg : initializer_arguments(spec.name)) valid.push_back(arg);
    only_keys(node, path + " (" + spec.name + ")", valid);
    for (const MapEntry& entry : node.entries) {
      const std::string key = path + "." + entry.key;
      const ConfigNode& v = entry.value;
      if (entry.key == "seed") {
        if (v.type == Type::null) {
          remember(key, v);
        } else {
          spec.seed = integer(v, key, 0, limits::seed);
        }
      }
      if (entry.key == "mean") spec.mean = number(v, key);
      if (entry.key == "stddev") spec.stddev = number(v, key);
      if (entry.key == "minval") spec.minval = number(v, key);
      if (entry.key == "maxval") spec.maxval = number(v, key);
      if (entry.key == "scale") spec.scale = number(v, key);
      if (entry.key == "gain") spec.gain = number(v, key);
      if (entry.key == "value") spec.value = number(v, key);
      if (entry.key == "mode") spec.mode = word(v, key, variance_modes());
      if (entry.key == "distribution") {
        spec.distribution = word(v, key, variance_distributions());
        if (spec.distribution == "normal") spec.distribution = "truncated_normal";  // as Keras
      }
    }
    return spec;
  }

  Activation activation(const ConfigNode& node, const std::string& path) {
    const std::string name = word(node, path, activation_names());
    if (name == "gelu") return Activation::gelu;
    if (name == "gelu_approximate") return Activation::gelu_approximate;
    if (name == "silu" || name == "swish") return Activation::silu;  // Keras's two names
    if (name == "elu") return Activation::elu;
    if (name == "leaky_relu") return Activation::leaky_relu;
    if (name == "softplus") return Activation::softplus;
    if (name == "hard_sigmoid") return Activation::hard_sigmoid;
    if (name == "relu") return Activation::relu;
    if (name == "sigmoid") return Activation::sigmoid;
    if (name == "tanh") return Activation::tanh;
    if (name == "softmax") return Activation::softmax;
    return Activation::linear;
  }

  Padding padding(const ConfigNode& node, const std::string& path) {
    return word(node, path, padding_names()) == "same" ? Padding::same : Padding::valid;
  }
};

}  // namespace

const std::vector<LayerVocabulary>& layer_vocabulary() {
  static const std::vector<LayerVocabulary> layers = {
      {"conv2d",
       LayerKind::conv2d,
       {"filters", "kernel_size", "strides", "padding", "activation", "use_bias",
        "kernel_initializer", "bias_initializer", "name"}},
      {"depthwise_conv2d",
       LayerKind::depthwise_conv2d,
       {"kernel_size", "strides", "padding", "depth_multiplier", "activation", "use_bias",
        "depthwise_initializer", "bias_initializer", "name"}},
      {"separable_conv2d",
       LayerKind::separable_conv2d,
       {"filters", "kernel_size", "strides", "padding", "depth_multiplier", "activation",
        "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer", "name"}},
      {"simple_rnn",
       LayerKind::simple_rnn,
       {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "dropout", "recurrent_dropout", "return_sequences", "go_backwards",
        "name"}},
      {"lstm",
       LayerKind::lstm,
       {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "unit_forget_bias", "dropout",
        "recurrent_dropout", "return_sequences", "go_backwards", "name"}},
      {"gru",
       LayerKind::gru,
       {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "dropout", "recurrent_dropout", "reset_after",
        "return_sequences", "go_backwards", "name"}},
      {"max_pooling2d", LayerKind::max_pooling2d, {"pool_size", "strides", "padding", "name"}},
      {"average_pooling2d",
       LayerKind::average_pooling2d,
       {"pool_size", "strides", "padding", "name"}},
      {"activation", LayerKind::activation, {"activation", "name"}},
      {"random_flip", LayerKind::random_flip, {"mode", "seed", "name"}},
      {"random_translation",
       LayerKind::random_translation,
       {"height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value",
        "name"}},
      {"random_zoom",
       LayerKind::random_zoom,
       {"height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value",
        "name"}},
      {"batch_normalization",
       LayerKind::batch_normalization,
       {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
        "moving_mean_initializer", "moving_variance_initializer", "name"}},
      {"layer_normalization",
       LayerKind::layer_normalization,
       {"axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer", "name"}},
      {"dropout", LayerKind::dropout, {"rate", "name"}},
      {"global_average_pooling2d", LayerKind::global_average_pooling2d, {"name"}},
      {"global_max_pooling2d", LayerKind::global_max_pooling2d, {"name"}},
      {"zero_padding2d", LayerKind::zero_padding2d, {"padding", "name"}},
      {"reshape", LayerKind::reshape, {"target_shape", "name"}},
      {"permute", LayerKind::permute, {"dims", "name"}},
      {"embedding",
       LayerKind::embedding,
       {"input_dim", "output_dim", "embeddings_initializer", "mask_zero", "name"}},
      {"bidirectional", LayerKind::bidirectional, {"layer", "merge_mode", "name"}},
      {"time_distributed", LayerKind::time_distributed, {"layer", "name"}},
      {"flatten", LayerKind::flatten, {"name"}},
      {"dense",
       LayerKind::dense,
       {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "name"}},
      {"add", LayerKind::add, {"name"}},
      {"subtract", LayerKind::subtract, {"name"}},
      {"multiply", LayerKind::multiply, {"name"}},
      {"average", LayerKind::average, {"name"}},
      {"maximum", LayerKind::maximum, {"name"}},
      {"minimum", LayerKind::minimum, {"name"}},
      {"concatenate", LayerKind::concatenate, {"axis", "name"}},
  };
  return layers;
}

std::vector<LayerKind> wrappable_kinds(LayerKind wrapper) {
  if (wrapper == LayerKind::bidirectional)
    return {LayerKind::simple_rnn, LayerKind::lstm, LayerKind::gru};
  if (wrapper == LayerKind::time_distributed) return {LayerKind::dense};
  return {};
}

namespace {

// The layer of list item `item` at `item_path` ("model.3", or "model.3.bidirectional.layer" for a
// wrapped one).
LayerConfig decode_layer(Reader& reader, const ConfigNode& item, const std::string& item_path,
                         std::map<std::string, int>& auto_names) {
  std::string key;
  SourcePlace key_place = item.place;
  const ConfigNode* args = nullptr;
  if (item.type == Type::scalar && !item.quoted) {
    key = item.scalar;
  } else if (item.type == Type::map && item.entries.size() == 1) {
    key = item.entries[0].key;
    key_place = item.entries[0].key_place;
    args = &item.entries[0].value;
  } else {
    fail_at(item.place, item_path +
                            " must be one layer, its type as the only key, e.g. "
                            "`- dense: {units: 10}` (got " +
                            shown(item) + ")");
  }
  const LayerVocabulary* vocabulary = nullptr;
  std::vector<std::string> known;
  for (const LayerVocabulary& v : layer_vocabulary()) {
    known.push_back(v.key);
    if (v.key == key) vocabulary = &v;
  }
  if (!vocabulary) {
    fail_at(key_place, "unknown layer `" + clipped(key) + "` in " + item_path +
                           "; valid layers: " + join(known));
  }

  LayerConfig layer;
  layer.kind = vocabulary->kind;
  if (layer.kind == LayerKind::simple_rnn || layer.kind == LayerKind::lstm ||
      layer.kind == LayerKind::gru)
    layer.activation = Activation::tanh;  // Keras's default for the recurrent layers
  layer.place = item.place;
  reader.places[item_path] = item.place;
  const std::string path = item_path + "." + key;
  reader.places[path] = args ? args->place : key_place;
  // Keras's auto names count only the unnamed layers of each type: dense, dense_1, ...
  bool named = false;
  if (args && args->type == Type::map) {
    for (const MapEntry& entry : args->entries) named = named || entry.key == "name";
  }
  if (!named) {
    const int count = auto_names[key]++;
    layer.name = count == 0 ? key : key + "_" + std::to_string(count);
  }
  if (!args) {
    if (is_merge(layer.kind))
      fail_at(key_place, path + " needs inputs: the layers it merges, e.g. `- " + key +
                             ": {inputs: [conv2d, conv2d_1]}`");
    return layer;
  }

  reader.map_of(*args, path, "{units: 10}");
  for (const MapEntry& entry : args->entries) {
    if (layer.kind == LayerKind::dropout && entry.key == "seed") {
      fail_at(entry.key_place, path +
                                   ".seed: dropout takes no seed here; its masks come from "
                                   "the run's `seed`, so remove it");
    }
  }
  std::vector<std::string> arguments = vocabulary->arguments;
  arguments.push_back("inputs");  // any layer may name the layers it takes
  reader.only_keys(*args, path, arguments);
  bool strides_given = false;
  for (const MapEntry& entry : args->entries) {
    const std::string key_path = path + "." + entry.key;
    const ConfigNode& v = entry.value;
    if (entry.key == "filters") layer.filters = reader.int32(v, key_path, 1, limits::units);
    if (entry.key == "units") layer.units = reader.int32(v, key_path, 1, limits::units);
    if (entry.key == "input_dim") layer.input_dim = reader.int32(v, key_path, 1, limits::units);
    if (entry.key == "output_dim") layer.output_dim = reader.int32(v, key_path, 1, limits::units);
    if (entry.key == "mask_zero") {
      layer.mask_zero = reader.boolean(v, key_path);
      if (layer.mask_zero)
        fail_at(v.place, key_path +
                             " true is not supported: repro has no masking, so later layers "
                             "would read padding ids as tokens; remove it or set false");
    }
    if (entry.key == "depth_multiplier")
      layer.depth_multiplier = reader.int32(v, key_path, 1, limits::units);
    if (entry.key == "kernel_size") layer.kernel_size = reader.pair(v, key_path, 1, limits::window);
    if (entry.key == "pool_size") layer.pool_size = reader.pair(v, key_path, 1, limits::window);
    if (entry.key == "strides") {
      layer.strides = reader.pair(v, key_path, 1, limits::window);
      strides_given = true;
    }
    if (entry.key == "dims") {
      if (v.type != Type::list || v.items.empty() || v.items.size() > 3)
        fail_at(v.place, key_path +
                             " must list the input axes in their new order, e.g. [2, 1] "
                             "(1-based, without the batch)");
      reader.remember(key_path, v);
      for (size_t k = 0; k < v.items.size(); ++k)
        layer.permute_dims.push_back(
            reader.int32(v.items[k], key_path + "." + std::to_string(k), 1, 3));
    }
    if (entry.key == "target_shape") {
      if (v.type != Type::list || v.items.empty() || v.items.size() > 3)
        fail_at(v.place, key_path +
                             " must be [h, w, c], [timesteps, features] or [f], one entry may be "
                             "-1 (got " +
                             (v.type == Type::list ? std::to_string(v.items.size()) + " entries"
                                                   : shown(v)) +
                             ")");
      reader.remember(key_path, v);
      for (size_t k = 0; k < v.items.size(); ++k) {
        const int64_t d =
            reader.integer(v.items[k], key_path + "." + std::to_string(k), -1, limits::units);
        if (d == 0)
          fail_at(v.items[k].place, key_path + " entries must be positive, or -1 once (got 0)");
        layer.target_shape.push_back(d);
      }
    }
    if (entry.key == "padding" && layer.kind == LayerKind::zero_padding2d) {
      // n, [h, w] or [[top, bottom], [left, right]], as keras.layers.ZeroPadding2D takes it.
      const auto side = [&](const ConfigNode& node, const std::string& at) {
        return reader.int32(node, at, 0, limits::window);
      };
      if (v.type == Type::list && v.items.size() == 2 && v.items[0].type == Type::list) {
        reader.remember(key_path, v);
        for (int d = 0; d < 2; ++d) {
          const std::array<int, 2> pair =
              reader.pair(v.items[d], key_path + "." + std::to_string(d), 0, limits::window);
          layer.zero_padding[2 * d] = pair[0], layer.zero_padding[2 * d + 1] = pair[1];
        }
      } else if (v.type == Type::list) {
        const std::array<int, 2> pair = reader.pair(v, key_path, 0, limits::window);
        layer.zero_padding = {pair[0], pair[0], pair[1], pair[1]};
      } else {
        const int n = side(v, key_path);
        layer.zero_padding = {n, n, n, n};
      }
    } else if (entry.key == "padding") {
      layer.padding = reader.padding(v, key_path);
    }
    if (entry.key == "activation") layer.activation = reader.activation(v, key_path);
    if (entry.key == "recurrent_activation")
      layer.recurrent_activation = reader.activation(v, key_path);
    if (entry.key == "recurrent_initializer")
      layer.recurrent_initializer =
          reader.initializer(v, key_path, layer.recurrent_initializer.name);
    if (entry.key == "unit_forget_bias") layer.unit_forget_bias = reader.boolean(v, key_path);
    if (entry.key == "dropout") layer.dropout = reader.number(v, key_path);
    if (entry.key == "recurrent_dropout") layer.recurrent_dropout = reader.number(v, key_path);
    if (entry.key == "return_sequences") layer.return_sequences = reader.boolean(v, key_path);
    if (entry.key == "go_backwards") layer.go_backwards = reader.boolean(v, key_path);
    if (entry.key == "reset_after") layer.reset_after = reader.boolean(v, key_path);
    if (entry.key == "use_bias") layer.use_bias = reader.boolean(v, key_path);
    if (entry.key == "kernel_initializer") {
      layer.kernel_initializer = reader.initializer(v, key_path, layer.kernel_initializer.name);
    }
    if (entry.key == "bias_initializer") {
      layer.bias_initializer = reader.initializer(v, key_path, layer.bias_initializer.name);
    }
    if (entry.key == "rate") layer.rate = reader.number(v, key_path);
    if (entry.key == "axis") layer.axis = reader.int32(v, key_path, -1, 3);
    if (entry.key == "momentum") layer.momentum = reader.number(v, key_path);
    if (entry.key == "epsilon") layer.epsilon = reader.number(v, key_path);
    if (entry.key == "center") layer.center = reader.boolean(v, key_path);
    if (entry.key == "scale") layer.scale = reader.boolean(v, key_path);
    for (auto [key, spec] :
         {std::pair{"beta_initializer", &layer.beta_initializer},
          std::pair{"gamma_initializer", &layer.gamma_initializer},
          std::pair{"moving_mean_initializer", &layer.moving_mean_initializer},
          std::pair{"moving_variance_initializer", &layer.moving_variance_initializer},
          std::pair{"depthwise_initializer", &layer.depthwise_initializer},
          std::pair{"pointwise_initializer", &layer.pointwise_initializer},
          std::pair{"embeddings_initializer", &layer.embeddings_initializer}}) {
      if (entry.key == key) *spec = reader.initializer(v, key_path, spec->name);
    }
    if (entry.key == "mode") {
      layer.mode = reader.word(v, key_path, flip_modes());
    }
    if (entry.key == "seed") {
      if (v.type == Type::null) {
        reader.remember(key_path, v);
        layer.seed.reset();
      } else {
        layer.seed = reader.integer(v, key_path, 0, limits::seed);
      }
    }
    if (entry.key == "height_factor") layer.height_factor = reader.factor(v, key_path);
    if (entry.key == "width_factor") {
      layer.width_factor_given = v.type != Type::null;
      if (layer.width_factor_given) {
        layer.width_factor = reader.factor(v, key_path);
      } else {
        reader.remember(key_path, v);
      }
    }
    if (entry.key == "fill_mode") {
      layer.fill_mode = reader.word(v, key_path, fill_modes());
    }
    if (entry.key == "interpolation") {
      layer.interpolation = reader.word(v, key_path, interpolation_names());
    }
    if (entry.key == "fill_value") layer.fill_value = reader.number(v, key_path);
    if (entry.key == "name") layer.name = reader.text(v, key_path);
    if (entry.key == "layer") layer.wrapped = {decode_layer(reader, v, key_path, auto_names)};
    if (entry.key == "merge_mode") layer.merge_mode = reader.word(v, key_path, merge_modes());
    if (entry.key == "inputs") {
      if (v.type == Type::scalar) {
        layer.inputs = {reader.text(v, key_path)};
      } else {
        if (v.type != Type::list || v.items.empty())
          fail_at(v.place, key_path + " must name the layers this one takes, e.g. [conv2d, " +
                               "input] (got " + shown(v) + ")");
        reader.remember(key_path, v);
        for (size_t k = 0; k < v.items.size(); ++k)
          layer.inputs.push_back(reader.text(v.items[k], key_path + "." + std::to_string(k)));
      }
    }
  }
  // Keras's MaxPooling2D and AveragePooling2D: strides=None means strides = pool_size.
  const bool pooling =
      layer.kind == LayerKind::max_pooling2d || layer.kind == LayerKind::average_pooling2d;
  if (pooling && !strides_given) layer.strides = layer.pool_size;
  return layer;
}

void decode_data(Reader& reader, const ConfigNode& node, DataConfig& data) {
  reader.map_of(node, "data", "{dataset: mnist, batch_size: 64}");
  reader.only_keys(node, "data", data_keys());
  for (const MapEntry& entry : node.entries) {
    const std::string path = "data." + entry.key;
    const ConfigNode& v = entry.value;
    if (entry.key == "dataset") data.dataset = reader.text(v, path);
    if (entry.key == "dir") data.dir = v.type == Type::null ? "" : reader.text(v, path);
    if (entry.key == "train_images") data.train_images = reader.text(v, path);
    if (entry.key == "train_labels") data.train_labels = reader.text(v, path);
    if (entry.key == "test_images") data.test_images = reader.text(v, path);
    if (entry.key == "test_labels") data.test_labels = reader.text(v, path);
    if (entry.key == "path") data.path = reader.text(v, path);
    if (entry.key == "keys") {
      reader.map_of(v, path, "{x_train: images, y_train: labels}");
      reader.only_keys(v, path, npz_array_keys());
      for (const MapEntry& sub : v.entries) {
        for (size_t k = 0; k < data.keys.size(); ++k)
          if (sub.key == npz_array_keys()[k])
            data.keys[k] = reader.text(sub.value, path + "." + sub.key);
      }
    }
    if (entry.key == "limit") data.limit = reader.integer(v, path, 0, limits::images);
    if (entry.key == "shuffle") data.shuffle = reader.boolean(v, path);
    if (entry.key == "shuffle_buffer")
      data.shuffle_buffer = reader.integer(v, path, 0, limits::images);
    if (entry.key == "reshuffle_each_iteration") {
      data.reshuffle_each_iteration = reader.boolean(v, path);
    }
    if (entry.key == "batch_size") data.batch_size = reader.int32(v, path, 1, limits::batch_size);
    if (entry.key == "resize") {
      if (v.type == Type::null) {
        data.resize = {0, 0};
        reader.remember(path, v);
      } else {
        if (v.type != Type::list) {
          fail_at(v.place, "data.resize must be [h, w] (got " + shown(v) + ")");
        }
        data.resize = reader.pair(v, path, 1, limits::resize);
      }
    }
    if (entry.key == "channels") data.channels = reader.int32(v, path, 1, limits::channels);
    if (entry.key == "validation_split") data.validation_split = reader.number(v, path);
    if (entry.key == "directory") data.directory = reader.text(v, path);
    if (entry.key == "test_path") data.test_path = v.type == Type::null ? "" : reader.text(v, path);
    if (entry.key == "label") data.label = reader.text(v, path);
    if (entry.key == "features") data.features = reader.int32(v, path, 1, limits::units);
    if (entry.key == "test_directory")
      data.test_directory = v.type == Type::null ? "" : reader.text(v, path);
    if (entry.key == "color_mode") data.color_mode = reader.text(v, path);
    if (entry.key == "image_size") {
      if (v.type != Type::list)
        fail_at(v.place, "data.image_size must be [h, w] (got " + shown(v) + ")");
      data.image_size = reader.pair(v, path, 1, limits::resize);
    }
    if (entry.key == "num_parallel_calls") data.num_parallel_calls = reader.auto_or_count(v, path);
    if (entry.key == "prefetch") data.prefetch = reader.auto_or_count(v, path);
  }
}

// learning_rate as a schedule map: {name: cosine_decay, initial_learning_rate: 0.002, ...}.
// Keras's class names (CosineDecay) are accepted like its initializer names.
void decode_schedule(Reader& reader, const ConfigNode& node, ScheduleConfig& schedule) {
  const std::string path = "training.optimizer.learning_rate";
  reader.map_of(node, path,
                "{name: cosine_decay, initial_learning_rate: 0.001, decay_steps: 1000}");
  const ConfigNode* name_node = nullptr;
  for (const MapEntry& entry : node.entries) {
    if (entry.key == "name") name_node = &entry.value;
  }
  const std::string valid = words_text(schedule_names());
  if (!name_node) fail_at(node.place, path + " needs a name: " + valid);
  const std::string name = snake_case(reader.text(*name_node, path + ".name"));
  if (schedule_arguments(name).empty()) {
    fail_at(name_node->place, path + ".name must be " + valid + " (got `" + clipped(name) + "`)");
  }
  schedule = ScheduleConfig{};
  schedule.name = name;
  std::vector<std::string> keys{"name"};
  for (const std::string& arg : schedule_arguments(name)) keys.push_back(arg);
  reader.only_keys(node, path + " (" + name + ")", keys);
  for (const MapEntry& entry : node.entries) {
    const std::string key = path + "." + entry.key;
    const ConfigNode& v = entry.value;
    if (entry.key == "initial_learning_rate") {
      schedule.initial_learning_rate = reader.number(v, key);
    }
    if (entry.key == "decay_steps") schedule.decay_steps = reader.integer(v, key, 1, limits::steps);
    if (entry.key == "decay_rate") schedule.decay_rate = reader.number(v, key);
    if (entry.key == "staircase") schedule.staircase = reader.boolean(v, key);
    if (entry.key == "alpha") schedule.alpha = reader.number(v, key);
    if (entry.key == "boundaries" || entry.key == "values") {
      if (v.type != Type::list) {
        fail_at(v.place, key + " must be a list, e.g. [1000, 2000] (got " + shown(v) + ")");
      }
      for (size_t i = 0; i < v.items.size(); ++i) {
        const std::string item = key + "[" + std::to_string(i) + "]";
        if (entry.key == "boundaries") {
          schedule.boundaries.push_back(reader.integer(v.items[i], item, 0, limits::steps));
        } else {
          schedule.values.push_back(reader.number(v.items[i], item));
        }
      }
      reader.remember(key, v);
    }
  }
}

// A map without `name` means adam, the default.
void decode_optimizer(Reader& reader, const ConfigNode& node, OptimizerConfig& optimizer) {
  const std::string path = "training.optimizer";
  const ConfigNode* name_node = &node;
  if (node.type == Type::map) {
    reader.remember(path, node);
    name_node = nullptr;
    for (const MapEntry& entry : node.entries) {
      if (entry.key == "name") name_node = &entry.value;
    }
  } else if (node.type != Type::scalar) {
    fail_at(node.place, path + " must be " + optimizer_names_text() +
                            " (or {name: adam, learning_rate: 0.001}; got " + shown(node) + ")");
  }
  std::string name = name_node ? reader.text(*name_node, path + ".name") : optimizer.name;
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const std::vector<std::string>& names = optimizer_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    fail_at(name_node ? name_node->place : node.place,
            path + ".name must be " + optimizer_names_text() + " (got `" + clipped(name) + "`)");
  }
  optimizer.name = name;
  if (node.type != Type::map) return;

  std::vector<std::string> valid{"name"};
  for (const std::string& arg : optimizer_arguments(name)) valid.push_back(arg);
  reader.only_keys(node, path + " (" + name + ")", valid);
  for (const MapEntry& entry : node.entries) {
    const std::string key = path + "." + entry.key;
    const ConfigNode& v = entry.value;
    if (entry.key == "learning_rate") {
      optimizer.schedule = ScheduleConfig{};
      if (v.type == Type::map) {
        decode_schedule(reader, v, optimizer.schedule);
      } else {
        optimizer.learning_rate = reader.number(v, key);
      }
    }
    if (entry.key == "rho") optimizer.rho = reader.number(v, key);
    if (entry.key == "centered") optimizer.centered = reader.boolean(v, key);
    if (entry.key == "weight_decay") optimizer.weight_decay = reader.number(v, key);
    if (entry.key == "beta_1") optimizer.beta_1 = reader.number(v, key);
    if (entry.key == "beta_2") optimizer.beta_2 = reader.number(v, key);
    if (entry.key == "epsilon") optimizer.epsilon = reader.number(v, key);
    if (entry.key == "momentum") optimizer.momentum = reader.number(v, key);
    if (entry.key == "nesterov") optimizer.nesterov = reader.boolean(v, key);
  }
}

// monitor and mode of a Keras monitor callback (the map's other keys are the caller's).
void decode_monitor(Reader& reader, const ConfigNode& node, const std::string& path,
                    MonitorConfig& monitor) {
  for (const MapEntry& sub : node.entries) {
    const std::string key = path + "." + sub.key;
    if (sub.key == "monitor") monitor.monitor = reader.word(sub.value, key, monitor_names());
    if (sub.key == "mode") monitor.mode = reader.word(sub.value, key, monitor_modes());
  }
}

void decode_training(Reader& reader, const ConfigNode& node, TrainingConfig& training) {
  reader.map_of(node, "training", "{epochs: 2, optimizer: adam}");
  reader.only_keys(node, "training", training_keys());
  for (const MapEntry& entry : node.entries) {
    const std::string path = "training." + entry.key;
    const ConfigNode& v = entry.value;
    if (entry.key == "epochs") training.epochs = reader.int32(v, path, 1, limits::epochs);
    if (entry.key == "optimizer") decode_optimizer(reader, v, training.optimizer);
    if (entry.key == "loss") training.loss = reader.text(v, path);
    if (entry.key == "validation") {
      training.validation_on_test =
          v.type == ConfigNode::Type::scalar && !v.quoted && v.scalar == "test";
      training.validation = training.validation_on_test || reader.boolean(v, path);
    }
    if (entry.key == "metrics") {
      if (v.type != Type::list) {
        fail_at(v.place, path + " must be a list, e.g. [accuracy] (got " + shown(v) + ")");
      }
      training.metrics.clear();
      for (const ConfigNode& metric : v.items) {
        training.metrics.push_back(reader.text(metric, path));
      }
      reader.remember(path, v);
    }
    if (entry.key == "checkpoint") {
      CheckpointConfig& checkpoint = training.checkpoint;
      checkpoint = CheckpointConfig{};
      if (v.type != Type::map) {
        checkpoint.enabled = v.type != Type::null && reader.boolean(v, path);
        reader.remember(path, v);
        continue;
      }
      checkpoint.enabled = true;
      reader.map_of(v, path, "{every: epoch, keep: 2}");
      reader.only_keys(v, path, checkpoint_keys());
      for (const MapEntry& sub : v.entries) {
        const std::string key = path + "." + sub.key;
        if (sub.key == "keep") checkpoint.keep = reader.int32(sub.value, key, 1, limits::keep);
        if (sub.key == "best") {
          reader.map_of(sub.value, key, "{monitor: val_loss, mode: auto}");
          reader.only_keys(sub.value, key, monitor_keys());
          checkpoint.best = true;
          decode_monitor(reader, sub.value, key, checkpoint.best_monitor);
        }
        if (sub.key == "every") {
          const ConfigNode& e = sub.value;
          if (e.type == Type::scalar && !e.quoted && e.scalar == "epoch") {
            reader.remember(key, e);
            checkpoint.every_steps = 0;
          } else {
            if (e.type != Type::scalar) {
              fail_at(e.place, key + " must be epoch or a number of steps from 1 to " +
                                   std::to_string(limits::steps) + " (got " + shown(e) + ")");
            }
            checkpoint.every_steps = reader.integer(e, key, 1, limits::steps);
          }
        }
      }
    }
    if (entry.key == "early_stopping") {
      EarlyStoppingConfig& e = training.early_stopping;
      e = EarlyStoppingConfig{};
      reader.map_of(v, path, "{monitor: val_loss, patience: 2}");
      reader.only_keys(v, path, early_stopping_keys());
      e.enabled = true;
      decode_monitor(reader, v, path, e.monitor);
      for (const MapEntry& sub : v.entries) {
        const std::string key = path + "." + sub.key;
        if (sub.key == "min_delta") e.min_delta = reader.number(sub.value, key);
        if (sub.key == "patience") e.patience = reader.int32(sub.value, key, 0, limits::epochs);
        if (sub.key == "baseline" && sub.value.type != Type::null)
          e.baseline = reader.number(sub.value, key);
        if (sub.key == "restore_best_weights")
          e.restore_best_weights = reader.boolean(sub.value, key);
        if (sub.key == "start_from_epoch")
          e.start_from_epoch = reader.int32(sub.value, key, 0, limits::epochs);
      }
    }
    if (entry.key == "reduce_lr_on_plateau") {
      ReduceLrConfig& r = training.reduce_lr_on_plateau;
      r = ReduceLrConfig{};
      reader.map_of(v, path, "{monitor: val_loss, factor: 0.5, patience: 2}");
      reader.only_keys(v, path, reduce_lr_keys());
      r.enabled = true;
      decode_monitor(reader, v, path, r.monitor);
      for (const MapEntry& sub : v.entries) {
        const std::string key = path + "." + sub.key;
        if (sub.key == "factor") r.factor = reader.number(sub.value, key);
        if (sub.key == "patience") r.patience = reader.int32(sub.value, key, 0, limits::epochs);
        if (sub.key == "min_delta") r.min_delta = reader.number(sub.value, key);
        if (sub.key == "cooldown") r.cooldown = reader.int32(sub.value, key, 0, limits::epochs);
        if (sub.key == "min_lr") r.min_lr = reader.number(sub.value, key);
      }
    }
    if (entry.key == "log") {
      training.log = LogConfig{};
      reader.map_of(v, path, "{every: 10}");
      reader.only_keys(v, path, interval_keys());
      for (const MapEntry& sub : v.entries) {
        training.log.every = reader.integer(sub.value, path + ".every", 0, limits::steps);
      }
    }
    if (entry.key == "trace") {
      training.trace = TraceConfig{};
      if (v.type != Type::map) {
        if (v.type != Type::null && reader.boolean(v, path)) {
          fail_at(v.place, path + " needs a step count, e.g. trace: {every: 50}");
        }
        reader.remember(path, v);
        continue;
      }
      reader.map_of(v, path, "{every: 50}");
      reader.only_keys(v, path, interval_keys());
      for (const MapEntry& sub : v.entries) {
        const std::string key = path + ".every";
        training.trace.every = reader.integer(sub.value, key, 1, limits::steps);
      }
    }
  }
}

}  // namespace

RunConfig decode_config(const ConfigNode& root) {
  RunConfig config;
  Reader reader{config.places};
  reader.only_keys(root, "the config", top_level_keys());
  for (const MapEntry& entry : root.entries) {
    const std::string& key = entry.key;
    const ConfigNode& v = entry.value;
    if (key == "seed") config.seed = reader.integer(v, key, 0, limits::seed);
    if (key == "rng") {
      config.rng = reader.word(v, key, rng_names()) == "tf" ? RngKind::tf : RngKind::jax;
    }
    if (key == "determinism") {
      const std::string mode = reader.word(v, key, determinism_words());
      config.determinism = mode == "portable"                 ? Determinism::portable
                           : (mode == "on" || mode == "true") ? Determinism::on
                                                              : Determinism::off;
    }
    if (key == "device") {
      config.device = reader.word(v, key, device_names()) == "cuda" ? Device::cuda : Device::cpu;
    }
    if (key == "threads") config.threads = reader.int32(v, key, 0, limits::threads);
    if (key == "initial_weights") config.initial_weights = reader.text(v, key);
    if (key == "data") decode_data(reader, v, config.data);
    if (key == "training") decode_training(reader, v, config.training);
    if (key == "model") {
      if (v.type != Type::list && v.type != Type::null) {
        fail_at(v.place, "model must be a list of layers, e.g. `- dense: {units: 10}` (got " +
                             shown(v) + ")");
      }
      reader.remember(key, v);
      std::map<std::string, int> auto_names;
      for (size_t i = 0; i < v.items.size(); ++i) {
        config.model.push_back(
            decode_layer(reader, v.items[i], "model." + std::to_string(i), auto_names));
      }
    }
  }
  return config;
}

}  // namespace repro::config_detail
