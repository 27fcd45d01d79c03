// RunConfig -> Keras config.json, and the .keras archive. Each layer's config lists the
// arguments Keras 3's get_config() writes, in its order, with the values repro trains with and
// Keras's values for what repro only runs at its default (data_format channels_last, no
// regularizers, ...), so that keras.saving.load_model builds the same network and
// `repro import keras` reads it back to the same config.
#include "keras/keras_export.h"

#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "record/zip_writer.h"

namespace repro {

namespace {

using Json = nlohmann::ordered_json;

Json keras_object(const std::string& module, const std::string& class_name, Json config) {
  return Json{{"module", module},
              {"class_name", class_name},
              {"config", std::move(config)},
              {"registered_name", nullptr}};
}

Json dtype_policy() { return keras_object("keras", "DTypePolicy", Json{{"name", "float32"}}); }

Json seed_value(const std::optional<int64_t>& seed) { return seed ? Json(*seed) : Json(nullptr); }

// keras.initializers: the class name and get_config() of each initializer repro runs.
Json initializer_json(const InitializerSpec& spec) {
  static const std::map<std::string, std::string> classes = {
      {"random_normal", "RandomNormal"},
      {"random_uniform", "RandomUniform"},
      {"truncated_normal", "TruncatedNormal"},
      {"variance_scaling", "VarianceScaling"},
      {"glorot_normal", "GlorotNormal"},
      {"glorot_uniform", "GlorotUniform"},
      {"he_normal", "HeNormal"},
      {"he_uniform", "HeUniform"},
      {"lecun_normal", "LecunNormal"},
      {"lecun_uniform", "LecunUniform"},
      {"orthogonal", "Orthogonal"},
      {"zeros", "Zeros"},
      {"ones", "Ones"},
      {"constant", "Constant"}};
  const auto found = classes.find(spec.name);
  REPRO_CHECK(found != classes.end(), "keras export: initializer without a Keras class");
  Json config = Json::object();
  const std::string& n = spec.name;
  if (n == "zeros" || n == "ones") {
  } else if (n == "constant") {
    config["value"] = spec.value;
  } else {
    config["seed"] = seed_value(spec.seed);
    if (n == "random_normal" || n == "truncated_normal") {
      config["mean"] = spec.mean;
      config["stddev"] = spec.stddev;
    } else if (n == "random_uniform") {
      config["minval"] = spec.minval;
      config["maxval"] = spec.maxval;
    } else if (n == "variance_scaling") {
      config["scale"] = spec.scale;
      config["mode"] = spec.mode;
      config["distribution"] = spec.distribution;
    } else if (n == "orthogonal") {
      config["gain"] = spec.gain;
    }
  }
  return keras_object("keras.initializers", found->second, std::move(config));
}

Json pair(const std::array<int, 2>& p) { return Json::array({p[0], p[1]}); }

// A random layer's factor: Keras keeps what it was given, a number f for [-f, f] or a pair.
Json factor(const std::array<double, 2>& f) {
  if (f[0] == -f[1]) return f[1];
  return Json::array({f[0], f[1]});
}

Json layer_config(const LayerConfig& layer) {
  Json c{{"name", layer.name}, {"trainable", true}, {"dtype", dtype_policy()}};
  switch (layer.kind) {
    case LayerKind::conv2d:
      c["filters"] = layer.filters;
      c["kernel_size"] = pair(layer.kernel_size);
      c["strides"] = pair(layer.strides);
      c["padding"] = padding_name(layer.padding);
      c["data_format"] = "channels_last";
      c["dilation_rate"] = Json::array({1, 1});
      c["groups"] = 1;
      c["activation"] = activation_name(layer.activation);
      c["use_bias"] = layer.use_bias;
      c["kernel_initializer"] = initializer_json(layer.kernel_initializer);
      c["bias_initializer"] = initializer_json(layer.bias_initializer);
      for (const char* key : {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                              "kernel_constraint", "bias_constraint"})
        c[key] = nullptr;
      break;
    case LayerKind::depthwise_conv2d:
    case LayerKind::separable_conv2d: {
      const bool separable = layer.kind == LayerKind::separable_conv2d;
      c["depth_multiplier"] = layer.depth_multiplier;
      if (separable) c["filters"] = layer.filters;
      c["kernel_size"] = pair(layer.kernel_size);
      c["strides"] = pair(layer.strides);
      c["padding"] = padding_name(layer.padding);
      c["data_format"] = "channels_last";
      c["dilation_rate"] = Json::array({1, 1});
      c["activation"] = activation_name(layer.activation);
      c["use_bias"] = layer.use_bias;
      c["depthwise_initializer"] = initializer_json(layer.depthwise_initializer);
      if (separable) c["pointwise_initializer"] = initializer_json(layer.pointwise_initializer);
      c["bias_initializer"] = initializer_json(layer.bias_initializer);
      for (const char* key : {"depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
                              "activity_regularizer", "depthwise_constraint",
                              "pointwise_constraint", "bias_constraint"})
        if (separable || std::string(key).rfind("pointwise", 0) != 0) c[key] = nullptr;
      break;
    }
    case LayerKind::simple_rnn:
    case LayerKind::lstm:
    case LayerKind::gru: {  // RNN's get_config, then the layer's (Keras 3's order)
      const bool lstm = layer.kind == LayerKind::lstm, gated = layer.kind != LayerKind::simple_rnn;
      c["return_sequences"] = layer.return_sequences;
      c["return_state"] = false;
      c["go_backwards"] = layer.go_backwards;
      c["stateful"] = false;
      c["unroll"] = false;
      c["zero_output_for_mask"] = false;
      c["units"] = layer.units;
      c["activation"] = activation_name(layer.activation);
      if (gated) c["recurrent_activation"] = activation_name(layer.recurrent_activation);
      c["use_bias"] = layer.use_bias;
      c["kernel_initializer"] = initializer_json(layer.kernel_initializer);
      c["recurrent_initializer"] = initializer_json(layer.recurrent_initializer);
      c["bias_initializer"] = initializer_json(layer.bias_initializer);
      if (lstm) c["unit_forget_bias"] = layer.unit_forget_bias;
      for (const char* key :
           {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
            "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint"})
        c[key] = nullptr;
      c["dropout"] = layer.dropout;
      c["recurrent_dropout"] = layer.recurrent_dropout;
      if (layer.kind == LayerKind::gru) c["reset_after"] = layer.reset_after;
      c["seed"] = nullptr;  // repro's masks come from the run's seed
      break;
    }
    case LayerKind::max_pooling2d:
    case LayerKind::average_pooling2d:
      c["pool_size"] = pair(layer.pool_size);
      c["padding"] = padding_name(layer.padding);
      c["strides"] = pair(layer.strides);
      c["data_format"] = "channels_last";
      break;
    case LayerKind::dropout:
      c["rate"] = layer.rate;
      c["seed"] = nullptr;  // repro's masks come from the run's seed
      c["noise_shape"] = nullptr;
      break;
    case LayerKind::reshape: c["target_shape"] = layer.target_shape; break;
    case LayerKind::permute: c["dims"] = layer.permute_dims; break;
    case LayerKind::bidirectional: {  // the forward copy as `layer`, then the backward copy
      c["merge_mode"] = layer.merge_mode;
      for (const bool backwards : {false, true}) {
        LayerConfig copy = layer.wrapped.at(0);
        copy.name = bidirectional_copy_name(layer, backwards);
        copy.go_backwards = backwards;
        Json config = layer_config(copy);
        config["zero_output_for_mask"] = copy.return_sequences;  // as Bidirectional forces it
        c[backwards ? "backward_layer" : "layer"] =
            keras_object("keras.layers", layer_class_name(copy.kind), std::move(config));
      }
      break;
    }
    case LayerKind::time_distributed: {
      const LayerConfig& inner = layer.wrapped.at(0);
      c["layer"] = keras_object("keras.layers", layer_class_name(inner.kind), layer_config(inner));
      break;
    }
    case LayerKind::embedding:  // Embedding.get_config's order
      c["input_dim"] = layer.input_dim;
      c["output_dim"] = layer.output_dim;
      c["embeddings_initializer"] = initializer_json(layer.embeddings_initializer);
      for (const char* key :
           {"embeddings_regularizer", "activity_regularizer", "embeddings_constraint"})
        c[key] = nullptr;
      c["mask_zero"] = layer.mask_zero;
      c["quantization_config"] = nullptr;
      break;
    case LayerKind::zero_padding2d: {
      const auto& p = layer.zero_padding;
      c["padding"] = Json::array({Json::array({p[0], p[1]}), Json::array({p[2], p[3]})});
      c["data_format"] = "channels_last";
      break;
    }
    case LayerKind::global_max_pooling2d:
    case LayerKind::global_average_pooling2d:
      c["data_format"] = "channels_last";
      c["keepdims"] = false;
      break;
    case LayerKind::flatten: c["data_format"] = "channels_last"; break;
    case LayerKind::dense:
      c["units"] = layer.units;
      c["activation"] = activation_name(layer.activation);
      c["use_bias"] = layer.use_bias;
      c["kernel_initializer"] = initializer_json(layer.kernel_initializer);
      c["bias_initializer"] = initializer_json(layer.bias_initializer);
      for (const char* key :
           {"kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint"})
        c[key] = nullptr;
      break;
    case LayerKind::activation: c["activation"] = activation_name(layer.activation); break;
    case LayerKind::add:
    case LayerKind::subtract:
    case LayerKind::multiply:
    case LayerKind::average:
    case LayerKind::maximum:
    case LayerKind::minimum: break;
    case LayerKind::concatenate: c["axis"] = layer.axis; break;
    case LayerKind::batch_normalization:
      c["axis"] = layer.axis;
      c["momentum"] = layer.momentum;
      c["epsilon"] = layer.epsilon;
      c["center"] = layer.center;
      c["scale"] = layer.scale;
      c["beta_initializer"] = initializer_json(layer.beta_initializer);
      c["gamma_initializer"] = initializer_json(layer.gamma_initializer);
      c["moving_mean_initializer"] = initializer_json(layer.moving_mean_initializer);
      c["moving_variance_initializer"] = initializer_json(layer.moving_variance_initializer);
      for (const char* key :
           {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
        c[key] = nullptr;
      c["synchronized"] = false;
      break;
    case LayerKind::layer_normalization:
      c["axis"] = layer.axis;
      c["epsilon"] = layer.epsilon;
      c["center"] = layer.center;
      c["scale"] = layer.scale;
      c["rms_scaling"] = false;
      c["beta_initializer"] = initializer_json(layer.beta_initializer);
      c["gamma_initializer"] = initializer_json(layer.gamma_initializer);
      for (const char* key :
           {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
        c[key] = nullptr;
      break;
    case LayerKind::random_flip:
      c["mode"] = layer.mode;
      c["seed"] = seed_value(layer.seed);
      c["data_format"] = "channels_last";
      break;
    case LayerKind::random_translation:
    case LayerKind::random_zoom:
      c["height_factor"] = factor(layer.height_factor);
      c["width_factor"] = layer.kind == LayerKind::random_zoom && !layer.width_factor_given
                              ? Json(nullptr)
                              : factor(layer.width_factor);
      c["fill_mode"] = layer.fill_mode;
      c["interpolation"] = layer.interpolation;
      c["seed"] = seed_value(layer.seed);
      c["fill_value"] = layer.fill_value;
      c["data_format"] = "channels_last";
      break;
  }
  return c;
}

Json batch_shape(const std::vector<int64_t>& shape) {
  Json out = Json::array({nullptr});
  for (const int64_t d : shape) out.push_back(d);
  return out;
}

Json learning_rate_json(const OptimizerConfig& optimizer) {
  const ScheduleConfig& s = optimizer.schedule;
  if (s.name.empty()) return optimizer.learning_rate;
  const std::string module = "keras.optimizers.schedules";
  if (s.name == "exponential_decay")
    return keras_object(module, "ExponentialDecay",
                        Json{{"initial_learning_rate", s.initial_learning_rate},
                             {"decay_steps", s.decay_steps},
                             {"decay_rate", s.decay_rate},
                             {"staircase", s.staircase},
                             {"name", "ExponentialDecay"}});
  if (s.name == "cosine_decay")
    return keras_object(module, "CosineDecay",
                        Json{{"initial_learning_rate", s.initial_learning_rate},
                             {"decay_steps", s.decay_steps},
                             {"alpha", s.alpha},
                             {"name", "CosineDecay"},
                             {"warmup_target", nullptr},
                             {"warmup_steps", 0}});
  REPRO_CHECK(s.name == "piecewise_constant_decay", "keras export: unknown schedule");
  return keras_object(
      module, "PiecewiseConstantDecay",
      Json{{"boundaries", s.boundaries}, {"values", s.values}, {"name", "PiecewiseConstant"}});
}

// keras.optimizers.<Class>.get_config(): the base optimizer's arguments, then the class's own.
Json optimizer_json(const OptimizerConfig& optimizer) {
  static const std::map<std::string, std::pair<std::string, std::string>> classes = {
      {"adam", {"Adam", "adam"}},
      {"adamw", {"AdamW", "adam_w"}},
      {"sgd", {"SGD", "sgd"}},
      {"rmsprop", {"RMSprop", "rm_sprop"}}};
  const auto& [class_name, name] = classes.at(optimizer.name);
  Json c{{"name", name},
         {"learning_rate", learning_rate_json(optimizer)},
         {"weight_decay", optimizer.name == "adamw" ? Json(optimizer.weight_decay) : Json(nullptr)},
         {"clipnorm", nullptr},
         {"global_clipnorm", nullptr},
         {"clipvalue", nullptr},
         {"use_ema", false},
         {"ema_momentum", 0.99},
         {"ema_overwrite_frequency", nullptr},
         {"loss_scale_factor", nullptr},
         {"gradient_accumulation_steps", nullptr}};
  if (optimizer.name == "adam" || optimizer.name == "adamw") {
    c["beta_1"] = optimizer.beta_1;
    c["beta_2"] = optimizer.beta_2;
    c["epsilon"] = optimizer.epsilon;
    c["amsgrad"] = false;
  } else if (optimizer.name == "sgd") {
    c["momentum"] = optimizer.momentum;
    c["nesterov"] = optimizer.nesterov;
  } else {
    c["rho"] = optimizer.rho;
    c["momentum"] = optimizer.momentum;
    c["epsilon"] = optimizer.epsilon;
    c["centered"] = optimizer.centered;
  }
  return keras_object("keras.optimizers", class_name, std::move(c));
}

Json sequential_json(const RunConfig& config, const std::vector<int64_t>& input_dims,
                     const std::vector<LayerShape>& shapes) {
  Json layers = Json::array();
  layers.push_back(keras_object("keras.layers", "InputLayer",
                                Json{{"batch_shape", batch_shape(input_dims)},
                                     {"dtype", "float32"},
                                     {"sparse", false},
                                     {"name", "input_layer"}}));
  for (size_t i = 0; i < config.model.size(); ++i) {
    Json layer = keras_object("keras.layers", layer_class_name(config.model[i].kind),
                              layer_config(config.model[i]));
    layer["build_config"] = {
        {"input_shape", batch_shape(i == 0 ? input_dims : shapes[i - 1].output)}};
    layers.push_back(std::move(layer));
  }
  Json model = keras_object("keras", "Sequential",
                            Json{{"name", keras_model_name(config)},
                                 {"trainable", true},
                                 {"dtype", dtype_policy()},
                                 {"layers", std::move(layers)},
                                 {"build_input_shape", batch_shape(input_dims)}});
  model["build_config"] = {{"input_shape", batch_shape(input_dims)}};
  return model;
}

// A layer graph as keras.Model(inputs, outputs) on one input and the last layer's output, in
// Functional.get_config()'s form: each layer serialized with its `name` and its one call
// (serialize_node: {"args": [...], "kwargs": {}}, a KerasTensor as __keras_tensor__ with its
// shape, dtype and keras_history [layer, node 0, tensor 0]; a merge layer takes the list of its
// inputs as one argument), input_layers and output_layers the tensors' [layer, 0, 0]. The layers
// are listed in the config's order, which takes every layer after its inputs as
// functional_from_config needs, so that `repro import keras` gives back the same config; Keras
// itself orders model.layers by its graph walk (keras_layer_order), which the weights follow.
Json functional_json(const RunConfig& config, const std::vector<int64_t>& input_dims,
                     const std::vector<LayerShape>& shapes) {
  const std::string input_name = keras_input_layer_name(config);
  auto name_of = [&](int p) { return p < 0 ? input_name : config.model[p].name; };
  auto dims_of = [&](int p) { return p < 0 ? input_dims : shapes[p].output; };
  Json layers = Json::array();
  Json input_layer = keras_object("keras.layers", "InputLayer",
                                  Json{{"batch_shape", batch_shape(input_dims)},
                                       {"dtype", "float32"},
                                       {"sparse", false},
                                       {"ragged", false},
                                       {"name", input_name},
                                       {"optional", false}});
  input_layer["name"] = input_name;
  input_layer["inbound_nodes"] = Json::array();
  layers.push_back(std::move(input_layer));
  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& l = config.model[i];
    Json layer = keras_object("keras.layers", layer_class_name(l.kind), layer_config(l));
    Json input_shapes = Json::array(), tensors = Json::array();
    for (const int p : shapes[i].inputs) {
      input_shapes.push_back(batch_shape(dims_of(p)));
      tensors.push_back(Json{{"class_name", "__keras_tensor__"},
                             {"config",
                              {{"shape", batch_shape(dims_of(p))},
                               {"dtype", "float32"},
                               {"keras_history", Json::array({name_of(p), 0, 0})}}}});
    }
    const bool merge = is_merge(l.kind);
    layer["build_config"] = {{"input_shape", merge ? input_shapes : input_shapes.at(0)}};
    layer["name"] = l.name;
    layer["inbound_nodes"] = Json::array({Json{
        {"args", Json::array({merge ? tensors : tensors.at(0)})}, {"kwargs", Json::object()}}});
    layers.push_back(std::move(layer));
  }
  Json model = keras_object("keras.src.models.functional", "Functional",
                            Json{{"name", keras_model_name(config)},
                                 {"trainable", true},
                                 {"layers", std::move(layers)},
                                 {"input_layers", Json::array({input_name, 0, 0})},
                                 {"output_layers", Json::array({config.model.back().name, 0, 0})}});
  // Functional is no public keras.* class: serialize_keras_object writes its module and its
  // registered name, the class name. The model is built on no input shape.
  model["registered_name"] = "Functional";
  model["build_config"] = {{"input_shape", nullptr}};
  return model;
}

}  // namespace

void require_keras_exportable(const RunConfig& config) {
  for (const LayerConfig& layer : config.model)
    if (layer.activation == Activation::gelu_approximate)
      throw InputError("layer '" + layer.name +
                       "': activation gelu_approximate has no name in a Keras config (Keras "
                       "saves gelu(x, approximate=True) as a function); export it with --format "
                       "onnx");
}

std::string keras_model_name(const RunConfig& config) {
  return is_graph(config) ? "functional" : "sequential";
}

std::string keras_input_layer_name(const RunConfig& config) {
  std::set<std::string> taken;
  for (const LayerConfig& layer : config.model) taken.insert(layer.name);
  std::string name = "input_layer";
  for (int n = 1; taken.count(name); ++n) name = "input_layer_" + std::to_string(n);
  return name;
}

std::string keras_model_config_json(const RunConfig& config) {
  require_keras_exportable(config);
  const std::array<int, 3> input = input_shape(config);
  const std::vector<int64_t> input_dims = flat_input(config)
                                              ? std::vector<int64_t>{input[2]}
                                              : std::vector<int64_t>{input[0], input[1], input[2]};
  const std::vector<LayerShape> shapes = infer_shapes(config);
  Json model = is_graph(config) ? functional_json(config, input_dims, shapes)
                                : sequential_json(config, input_dims, shapes);
  Json metrics = Json::array();
  for (const std::string& m : config.training.metrics) metrics.push_back(m);
  model["compile_config"] = {{"optimizer", optimizer_json(config.training.optimizer)},
                             {"loss", config.training.loss},
                             {"loss_weights", nullptr},
                             {"metrics", std::move(metrics)},
                             {"weighted_metrics", nullptr},
                             {"run_eagerly", false},
                             {"steps_per_execution", 1},
                             {"jit_compile", false}};
  return model.dump();
}

std::string keras_archive(const RunConfig& config, const std::vector<NamedTensor>& weights,
                          const KerasOptimizerState* optimizer, const std::string& date_saved) {
  const Json metadata{{"keras_version", kKerasFormatVersion}, {"date_saved", date_saved}};
  return write_zip({{"metadata.json", metadata.dump()},
                    {"config.json", keras_model_config_json(config)},
                    {"model.weights.h5", keras_weights_h5(config, weights, optimizer)}});
}

}  // namespace repro
