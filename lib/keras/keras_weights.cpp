// The Keras H5 weights layout over record/h5_vars (HDF5) and record/zip_reader (.keras).
#include "keras/keras_weights.h"

#include <map>

#include "core/error.h"
#include "core/fs.h"
#include "keras/keras_export.h"
#include "record/h5_vars.h"
#include "record/zip_reader.h"

namespace repro {

namespace {

constexpr int64_t kMaxFileBytes = int64_t{4} << 30;

// The weights of layer `name` in export order (its "<name>/..." tensors).
std::vector<const NamedTensor*> layer_weights(const std::vector<NamedTensor>& weights,
                                              const std::string& name) {
  std::vector<const NamedTensor*> out;
  for (const NamedTensor& t : weights)
    if (t.name.rfind(name + "/", 0) == 0) out.push_back(&t);
  return out;
}

H5Var float_var(const NamedTensor& t) { return H5Var{t.shape, t.data, false, 0}; }

// Keras's optimizer auto-names (naming.auto_name of the class name), the group's name attribute.
std::string optimizer_object_name(const std::string& optimizer) {
  if (optimizer == "adamw") return "adam_w";
  if (optimizer == "rmsprop") return "rm_sprop";
  return optimizer;
}

H5VarsGroup optimizer_group(const RunConfig& config, const std::vector<NamedTensor>& weights,
                            const KerasOptimizerState& state) {
  const OptimizerConfig& optimizer = config.training.optimizer;
  H5VarsGroup group{"optimizer", optimizer_object_name(optimizer.name), {}};
  group.vars.push_back(H5Var{{}, {}, true, state.iterations});
  if (optimizer.schedule.name.empty()) {
    const float rate =
        state.learning_rate ? *state.learning_rate : static_cast<float>(optimizer.learning_rate);
    group.vars.push_back(H5Var{{}, {rate}, false, 0});
  }
  std::map<std::string, const NamedTensor*> slots;
  for (const NamedTensor& s : state.slots) slots[s.name] = &s;
  // Trainable parameters are those with slots (moving statistics have none), in model order.
  std::vector<std::string> suffixes;
  if (optimizer.name == "adam" || optimizer.name == "adamw") suffixes = {"momentum", "velocity"};
  if (optimizer.name == "sgd" && optimizer.momentum != 0.0) suffixes = {"momentum"};
  if (optimizer.name == "rmsprop") {
    suffixes = {"velocity"};
    if (optimizer.momentum > 0.0) suffixes.push_back("momentum");
    if (optimizer.centered) suffixes.push_back("average_gradient");
  }
  std::vector<std::string> trainable;
  for (const NamedTensor& w : weights)
    if (!suffixes.empty() && slots.count(w.name + "/" + suffixes[0])) trainable.push_back(w.name);
  auto slot = [&](const std::string& param, const std::string& suffix) {
    const auto found = slots.find(param + "/" + suffix);
    if (found == slots.end())
      throw InputError("the optimizer state has no '" + param + "/" + suffix + "'");
    return float_var(*found->second);
  };
  const bool interleaved = optimizer.name == "adam" || optimizer.name == "adamw";
  if (interleaved) {
    for (const std::string& param : trainable)
      for (const std::string& suffix : suffixes) group.vars.push_back(slot(param, suffix));
  } else {
    for (const std::string& suffix : suffixes)
      for (const std::string& param : trainable) group.vars.push_back(slot(param, suffix));
  }
  if (trainable.size() * suffixes.size() != state.slots.size())
    throw InputError("the optimizer state holds " + std::to_string(state.slots.size()) +
                     " slots, the model's " + config.training.optimizer.name + " has " +
                     std::to_string(trainable.size() * suffixes.size()));
  return group;
}

}  // namespace

std::vector<std::string> keras_layer_paths(const RunConfig& config) {
  std::map<std::string, int> used;
  std::vector<std::string> paths;
  for (const LayerConfig& layer : config.model) {
    const std::string base = snake_case(layer_class_name(layer.kind));
    const int n = used[base]++;
    paths.push_back("layers/" + (n == 0 ? base : base + "_" + std::to_string(n)));
  }
  return paths;
}

std::string keras_weights_h5(const RunConfig& config, const std::vector<NamedTensor>& weights,
                             const KerasOptimizerState* optimizer) {
  require_sequential(config);
  std::vector<H5VarsGroup> groups;
  groups.push_back(H5VarsGroup{"", "sequential", {}});
  const std::vector<std::string> paths = keras_layer_paths(config);
  size_t written = 0;
  for (size_t i = 0; i < config.model.size(); ++i) {
    H5VarsGroup group{paths[i], config.model[i].name, {}};
    for (const NamedTensor* t : layer_weights(weights, config.model[i].name))
      group.vars.push_back(float_var(*t));
    written += group.vars.size();
    groups.push_back(std::move(group));
  }
  if (written != weights.size())
    throw InputError("the weights hold " + std::to_string(weights.size()) + " tensors, of which " +
                     std::to_string(written) + " belong to the config's layers");
  if (optimizer) groups.push_back(optimizer_group(config, weights, *optimizer));
  return write_h5_vars(groups);
}

std::vector<NamedTensor> keras_weights_from_bytes(std::string_view bytes,
                                                  const std::string& file_label,
                                                  const RunConfig& config,
                                                  const std::vector<NamedTensor>& expected) {
  std::string from_zip;
  std::string label = file_label;
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    const ZipReader zip(bytes, file_label, ".keras archive");
    if (!zip.has("model.weights.h5"))
      throw InputError(file_label + ": a zip without model.weights.h5, so not a .keras archive " +
                       "with HDF5 weights (Keras's npz weights format is not read)");
    from_zip = zip.read("model.weights.h5", static_cast<uint64_t>(kMaxFileBytes));
    bytes = from_zip;
    label = file_label + " (model.weights.h5)";
  }
  const H5VarsReader reader(bytes, label);
  const std::vector<std::string> paths = keras_layer_paths(config);
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& layer = config.model[i];
    const std::vector<const NamedTensor*> wanted = layer_weights(expected, layer.name);
    const int64_t count = reader.count(paths[i]);
    const std::string where = label + ": layer " + std::to_string(i) + " '" + layer.name + "' (" +
                              layer_class_name(layer.kind) + ", " + paths[i] + ")";
    if (count < 0 && wanted.empty()) continue;  // Keras before 3.10 wrote no empty groups
    if (count < 0)
      throw InputError(where + ": no such group; the file holds the weights of another model");
    if (count != static_cast<int64_t>(wanted.size()))
      throw InputError(where + " has " + std::to_string(count) + " variables, the model's has " +
                       std::to_string(wanted.size()) + "; the file holds another model's weights");
    for (size_t v = 0; v < wanted.size(); ++v)
      out.push_back(NamedTensor{wanted[v]->name, wanted[v]->shape,
                                reader.read(paths[i], static_cast<int64_t>(v), wanted[v]->shape)});
  }
  return out;
}

std::vector<NamedTensor> read_keras_weights(const std::string& path, const RunConfig& config,
                                            const std::vector<NamedTensor>& expected) {
  const std::string bytes = read_file(path, kMaxFileBytes);
  return keras_weights_from_bytes(bytes, path, config, expected);
}

}  // namespace repro
