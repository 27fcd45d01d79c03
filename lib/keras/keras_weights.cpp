// The Keras H5 weights layout over record/h5_vars (HDF5) and record/zip_reader (.keras).
#include "keras/keras_weights.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/fs.h"
#include "keras/keras_export.h"
#include "record/h5_vars.h"
#include "record/zip_reader.h"

namespace repro {

namespace {

constexpr int64_t kMaxFileBytes = int64_t{4} << 30;

// The tensors whose names start with `prefix` ("<layer>/"), in export order.
std::vector<const NamedTensor*> tensors_under(const std::vector<NamedTensor>& weights,
                                              const std::string& prefix) {
  std::vector<const NamedTensor*> out;
  for (const NamedTensor& t : weights)
    if (t.name.rfind(prefix, 0) == 0) out.push_back(&t);
  return out;
}

H5Var float_var(const NamedTensor& t) { return H5Var{t.shape, t.data, false, 0}; }

// One `vars` group of a layer as Keras saves it: the group's path, its `name` attribute and the
// prefix of the run's tensors it holds ("" for none).
struct VarsGroup {
  std::string path, name, prefix;
};

// A layer's vars groups under `path`. _save_state saves each object's own variables, then walks
// its attributes: a recurrent layer (RNN) owns none, its `cell` (named lstm_cell, gru_cell or
// simple_rnn_cell) owns them.
std::vector<VarsGroup> vars_groups(const LayerConfig& layer, const std::string& path) {
  switch (layer.kind) {
    case LayerKind::simple_rnn:
    case LayerKind::lstm:
    case LayerKind::gru:
      return {{path, layer.name, ""},
              {path + "/cell", layer_key(layer.kind) + "_cell", layer.name + "/"}};
    case LayerKind::bidirectional: {  // its own (none), then forward_layer's, backward_layer's
      std::vector<VarsGroup> groups{{path, layer.name, ""}};
      for (const bool backwards : {false, true}) {
        const std::string copy = bidirectional_copy_name(layer, backwards);
        for (VarsGroup g : vars_groups(layer.wrapped.at(0), ""))
          groups.push_back({path + (backwards ? "/backward_layer" : "/forward_layer") + g.path,
                            g.path.empty() ? copy : g.name,
                            g.prefix.empty() ? "" : layer.name + "/" + copy + "/"});
      }
      return groups;
    }
    case LayerKind::time_distributed:  // its own (none), then its `layer`'s
      return {{path, layer.name, ""},
              {path + "/layer", layer.wrapped.at(0).name, layer.name + "/"}};
    default: return {{path, layer.name, layer.name + "/"}};
  }
}

// Keras's optimizer auto-names (naming.auto_name of the class name), the group's name attribute.
std::string optimizer_object_name(const std::string& optimizer) {
  if (optimizer == "adamw") return "adam_w";
  if (optimizer == "rmsprop") return "rm_sprop";
  return optimizer;
}

// `weights` in model.layers order, the order of Keras's trainable variables.
H5VarsGroup optimizer_group(const RunConfig& config, const std::vector<const NamedTensor*>& weights,
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
  for (const NamedTensor* w : weights)
    if (!suffixes.empty() && slots.count(w->name + "/" + suffixes[0])) trainable.push_back(w->name);
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

std::vector<size_t> keras_layer_order(const RunConfig& config) {
  const size_t n = config.model.size();
  std::vector<size_t> order;
  if (!is_graph(config)) {
    for (size_t i = 0; i < n; ++i) order.push_back(i);
    return order;
  }
  // function.py's _build_map and map_graph over repro's graph, where each layer is called once
  // (a node is its layer); node n is the InputLayer (layer_inputs' -1).
  const std::vector<std::vector<int>> inputs = layer_inputs(config);
  const std::vector<int> none;
  auto parents = [&](size_t v) -> const std::vector<int>& { return v == n ? none : inputs[v]; };
  auto node = [&](int p) { return p < 0 ? n : static_cast<size_t>(p); };
  std::vector<int64_t> first_seen(n + 1, -1);  // operation_indices
  std::vector<bool> finished(n + 1, false);
  std::vector<size_t> post_order;  // nodes_in_decreasing_depth
  int64_t seen = 0;
  std::vector<std::pair<size_t, size_t>> stack;  // (node, its next input to walk)
  auto enter = [&](size_t v) {
    if (finished[v]) return;
    if (first_seen[v] < 0) first_seen[v] = seen++;
    stack.emplace_back(v, 0);
  };
  enter(n - 1);  // the output: the last layer
  while (!stack.empty()) {
    const size_t v = stack.back().first;
    const size_t k = stack.back().second++;
    if (k < parents(v).size()) {
      enter(node(parents(v)[k]));
      continue;
    }
    finished[v] = true;
    post_order.push_back(v);
    stack.pop_back();
  }
  // A node's depth is the longest path from it to the output.
  std::vector<int64_t> depth(n + 1, 0);
  for (auto it = post_order.rbegin(); it != post_order.rend(); ++it)
    for (const int p : parents(*it)) depth[node(p)] = std::max(depth[node(p)], depth[*it] + 1);
  std::vector<size_t> all = post_order;
  REPRO_CHECK(all.size() == n + 1, "keras export: a layer the output does not take");
  std::sort(all.begin(), all.end(), [&](size_t a, size_t b) {
    return depth[a] != depth[b] ? depth[a] > depth[b] : first_seen[a] < first_seen[b];
  });
  for (const size_t v : all)
    if (v != n) order.push_back(v);
  return order;
}

std::vector<std::string> keras_layer_paths(const RunConfig& config) {
  std::map<std::string, int> used;
  // A Functional model's layers start with its InputLayer, which takes the first input_layer.
  if (is_graph(config)) used[snake_case("InputLayer")] = 1;
  std::vector<std::string> paths(config.model.size());
  for (const size_t i : keras_layer_order(config)) {
    const std::string base = snake_case(layer_class_name(config.model[i].kind));
    const int n = used[base]++;
    paths[i] = "layers/" + (n == 0 ? base : base + "_" + std::to_string(n));
  }
  return paths;
}

std::string keras_weights_h5(const RunConfig& config, const std::vector<NamedTensor>& weights,
                             const KerasOptimizerState* optimizer) {
  require_keras_exportable(config);
  std::vector<H5VarsGroup> groups;
  groups.push_back(H5VarsGroup{"", keras_model_name(config), {}});
  if (is_graph(config))
    groups.push_back(
        H5VarsGroup{"layers/" + snake_case("InputLayer"), keras_input_layer_name(config), {}});
  const std::vector<std::string> paths = keras_layer_paths(config);
  std::vector<const NamedTensor*> written;  // in model.layers order
  for (const size_t i : keras_layer_order(config)) {
    for (const VarsGroup& vars : vars_groups(config.model[i], paths[i])) {
      H5VarsGroup group{vars.path, vars.name, {}};
      if (!vars.prefix.empty())
        for (const NamedTensor* t : tensors_under(weights, vars.prefix)) {
          group.vars.push_back(float_var(*t));
          written.push_back(t);
        }
      groups.push_back(std::move(group));
    }
  }
  if (written.size() != weights.size())
    throw InputError("the weights hold " + std::to_string(weights.size()) + " tensors, of which " +
                     std::to_string(written.size()) + " belong to the config's layers");
  if (optimizer) groups.push_back(optimizer_group(config, written, *optimizer));
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
    for (const VarsGroup& vars : vars_groups(layer, paths[i])) {
      const std::vector<const NamedTensor*> wanted = vars.prefix.empty()
                                                         ? std::vector<const NamedTensor*>{}
                                                         : tensors_under(expected, vars.prefix);
      const int64_t count = reader.count(vars.path);
      const std::string where = label + ": layer " + std::to_string(i) + " '" + layer.name + "' (" +
                                layer_class_name(layer.kind) + ", " + vars.path + ")";
      if (count < 0 && wanted.empty()) continue;  // Keras before 3.10 wrote no empty groups
      if (count < 0)
        throw InputError(where + ": no such group; the file holds the weights of another model");
      if (count != static_cast<int64_t>(wanted.size()))
        throw InputError(where + " has " + std::to_string(count) + " variables, the model's has " +
                         std::to_string(wanted.size()) +
                         "; the file holds another model's weights");
      for (size_t v = 0; v < wanted.size(); ++v)
        out.push_back(
            NamedTensor{wanted[v]->name, wanted[v]->shape,
                        reader.read(vars.path, static_cast<int64_t>(v), wanted[v]->shape)});
    }
  }
  return out;
}

std::vector<NamedTensor> read_keras_weights(const std::string& path, const RunConfig& config,
                                            const std::vector<NamedTensor>& expected) {
  const std::string bytes = read_file(path, kMaxFileBytes);
  return keras_weights_from_bytes(bytes, path, config, expected);
}

}  // namespace repro
