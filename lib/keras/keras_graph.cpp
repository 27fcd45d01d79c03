// Functional config -> the order and inputs of repro's layer graph. Keras names each tensor by
// the layer that made it, which call of that layer (node) and which of its outputs (tensor);
// repro's layers are called once with one output, so every name must be [layer, 0, 0].
#include "keras/keras_graph.h"

#include <algorithm>
#include <map>
#include <optional>
#include <queue>

#include "core/error.h"
#include "record/json_text.h"

namespace repro {

namespace {

using Json = nlohmann::ordered_json;

struct TensorRef {
  std::string layer;
  int64_t node = 0;
  int64_t tensor = 0;
};

std::string value_text(const Json& value) { return clipped(value.dump(), 40); }

// [layer, node, tensor]: Keras 3's keras_history, input_layers and output_layers, and tf.keras
// 2's inbound entries (which add the call's kwargs as a fourth item).
std::optional<TensorRef> tensor_ref(const Json& value) {
  if (!value.is_array() || value.size() < 3 || !value[0].is_string() ||
      !value[1].is_number_integer() || !value[2].is_number_integer())
    return std::nullopt;
  return TensorRef{value[0].get<std::string>(), value[1].get<int64_t>(), value[2].get<int64_t>()};
}

std::string ref_text(const TensorRef& ref) {
  return "[" + quoted_name(ref.layer) + ", " + std::to_string(ref.node) + ", " +
         std::to_string(ref.tensor) + "]";
}

// input_layers and output_layers hold one triple, or the structure the model was built with (a
// list or a dict of triples); `others` counts what is neither.
void collect_refs(const Json& value, std::vector<TensorRef>& refs, int& others) {
  if (const auto ref = tensor_ref(value)) {
    refs.push_back(*ref);
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect_refs(item, refs, others);
  } else {
    ++others;
  }
}

// The tensors in a Keras 3 call's args, in order: each {"class_name": "__keras_tensor__",
// "config": {"keras_history": [...]}}, a merge's list of them as one argument. Other values go
// to `others`; a null (an optional argument left out) is skipped.
void collect_tensors(const Json& value, std::vector<TensorRef>& takes, std::vector<Json>& others) {
  if (value.is_object() && value.value("class_name", "") == "__keras_tensor__") {
    const Json config = value.value("config", Json::object());
    const auto ref =
        config.is_object() ? tensor_ref(config.value("keras_history", Json())) : std::nullopt;
    if (ref)
      takes.push_back(*ref);
    else
      others.push_back(value);
  } else if (value.is_array()) {
    for (const Json& item : value) collect_tensors(item, takes, others);
  } else if (!value.is_null()) {
    others.push_back(value);
  }
}

// The tensors one call of a layer takes. Keras 3 writes a call as {"args": [...], "kwargs":
// {...}}, tf.keras 2 as [[layer, node, tensor, kwargs], ...]. Any other argument would change
// what the layer computes (training=True, a mask), so it goes to `unsupported`.
std::vector<TensorRef> call_inputs(const Json& call, const std::string& where,
                                   std::vector<std::string>& unsupported) {
  std::vector<TensorRef> takes;
  auto refuse_kwargs = [&](const Json& kwargs) {
    if (!kwargs.is_object()) return;
    for (const auto& [key, value] : kwargs.items())
      if (!value.is_null())
        unsupported.push_back(where + ": call argument " + clipped(key, 40) + " " +
                              value_text(value) +
                              " is not supported (repro calls a layer on its inputs alone)");
  };
  if (call.is_array()) {
    for (const Json& entry : call) {
      const auto ref = tensor_ref(entry);
      if (!ref) {
        unsupported.push_back(where + ": inbound node " + value_text(entry) +
                              " is not [layer, node_index, tensor_index]");
        continue;
      }
      takes.push_back(*ref);
      if (entry.size() > 3) refuse_kwargs(entry[3]);
    }
    return takes;
  }
  if (!call.is_object() || !call.contains("args")) {
    unsupported.push_back(where + ": inbound node " + value_text(call) +
                          " is not a call Keras writes ({\"args\": [...], \"kwargs\": {...}})");
    return takes;
  }
  std::vector<Json> others;
  collect_tensors(call["args"], takes, others);
  for (const Json& other : others)
    unsupported.push_back(where + ": call argument " + value_text(other) +
                          " is not supported (repro calls a layer on its inputs alone)");
  refuse_kwargs(call.value("kwargs", Json::object()));
  return takes;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + quoted_name(name);
  return text;
}

}  // namespace

std::string keras_layer_name(const Json& layer) {
  if (!layer.is_object()) return "";
  if (layer.contains("name")) return layer.value("name", "");
  const Json config = layer.value("config", Json::object());
  return config.is_object() ? config.value("name", "") : "";
}

std::string keras_layer_where(size_t index, const std::string& name,
                              const std::string& class_name) {
  return "layers[" + std::to_string(index) + "] " + quoted_name(name) + " (" +
         clipped(class_name, 40) + ")";
}

std::vector<KerasGraphStep> keras_functional_order(const Json& model,
                                                   std::vector<std::string>& unsupported) {
  struct GraphLayer {
    std::string name, where;
    bool input = false;  // an InputLayer
    size_t calls = 0;
    std::vector<TensorRef> takes;       // what its one call takes
    std::vector<TensorRef> every_take;  // what all its calls take
  };
  const Json& layers = model.at("layers");
  const size_t before = unsupported.size();
  std::vector<GraphLayer> graph;
  std::map<std::string, size_t> index_of;
  std::vector<std::string> input_names;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Json& layer = layers[i];
    const std::string class_name = layer.is_object() ? layer.value("class_name", "") : "";
    GraphLayer g;
    g.name = keras_layer_name(layer);
    g.where = keras_layer_where(i, g.name, class_name);
    g.input = class_name == "InputLayer";
    if (index_of.count(g.name))
      unsupported.push_back(g.where + ": a second layer of this name; Keras names each once");
    index_of[g.name] = i;
    const Json calls = layer.is_object() ? layer.value("inbound_nodes", Json::array()) : Json();
    g.calls = calls.is_array() ? calls.size() : 0;
    if (g.input) {
      input_names.push_back(g.name);
    } else if (g.calls == 0) {
      unsupported.push_back(g.where + ": is called on no input (its inbound_nodes are empty)");
    } else if (g.calls > 1) {
      unsupported.push_back(g.where + ": is called " + std::to_string(g.calls) +
                            " times (a shared layer); repro takes each layer called once, with "
                            "weights of its own");
    }
    // A shared layer's calls still count as uses of what they take, so that the one error names
    // the shared layer and not the layers it takes.
    for (size_t k = 0; !g.input && k < g.calls; ++k) {
      const std::vector<TensorRef> takes = call_inputs(calls[k], g.where, unsupported);
      if (takes.empty()) unsupported.push_back(g.where + ": its call takes no tensor");
      g.every_take.insert(g.every_take.end(), takes.begin(), takes.end());
      if (g.calls == 1) g.takes = takes;
    }
    graph.push_back(std::move(g));
  }

  // One input and one output, as repro trains a model on images to classes.
  std::vector<TensorRef> inputs, outputs;
  int malformed = 0;
  collect_refs(model.value("input_layers", Json::array()), inputs, malformed);
  collect_refs(model.value("output_layers", Json::array()), outputs, malformed);
  if (malformed > 0 || outputs.empty())
    unsupported.push_back(
        "config.input_layers and config.output_layers must hold [layer, node_index, "
        "tensor_index] triples");
  for (const TensorRef& ref : inputs)
    if (std::find(input_names.begin(), input_names.end(), ref.layer) == input_names.end())
      input_names.push_back(ref.layer);
  if (input_names.empty())
    unsupported.push_back("the model has no InputLayer; repro takes one input, the images");
  if (input_names.size() > 1)
    unsupported.push_back("the model has " + std::to_string(input_names.size()) + " inputs (" +
                          names_text(input_names) + "); repro takes one input, the images");
  if (outputs.size() > 1) {
    std::vector<std::string> names;
    for (const TensorRef& ref : outputs) names.push_back(ref.layer);
    unsupported.push_back("the model has " + std::to_string(outputs.size()) + " outputs (" +
                          names_text(names) + "); repro trains one output, the last layer");
  }

  // Every name must be the one output of a layer called once; a shared layer's later calls are
  // not named again, the layer itself is.
  auto check_ref = [&](const std::string& where, const TensorRef& ref) {
    const auto found = index_of.find(ref.layer);
    if (found == index_of.end()) {
      unsupported.push_back(where + " " + quoted_name(ref.layer) +
                            ", which is no layer of the model");
      return false;
    }
    if ((ref.node != 0 || ref.tensor != 0) && graph[found->second].calls <= 1)
      unsupported.push_back(where + " " + ref_text(ref) +
                            "; repro takes the one output of a layer called once ([" +
                            quoted_name(ref.layer) + ", 0, 0])");
    return true;
  };
  for (const TensorRef& ref : inputs)
    if (check_ref("config.input_layers names", ref) && !graph[index_of[ref.layer]].input)
      unsupported.push_back(
          "config.input_layers names " + quoted_name(ref.layer) +
          ", which is not an InputLayer; repro takes an InputLayer as the model's input");
  for (const TensorRef& ref : outputs)
    if (check_ref("config.output_layers names", ref) && graph[index_of[ref.layer]].input)
      unsupported.push_back("config.output_layers names the model's input " +
                            quoted_name(ref.layer) + "; repro trains at least one layer");
  const std::string output = outputs.size() == 1 ? outputs[0].layer : "";

  // repro's rule for a graph: every layer's output is taken by a later layer or is the model's.
  std::vector<size_t> uses(graph.size(), 0);
  for (const GraphLayer& g : graph)
    for (const TensorRef& ref : g.every_take)
      if (check_ref(g.where + ": takes", ref)) ++uses[index_of[ref.layer]];
  for (size_t i = 0; i < graph.size(); ++i)
    if (uses[i] == 0 && !graph[i].input && !output.empty() && graph[i].name != output)
      unsupported.push_back(graph[i].where +
                            ": its output is taken by no layer and is not the model's output; "
                            "repro needs every branch to reach the output");
  if (unsupported.size() > before) return {};

  // Keras's order, but a layer waits for the layers it takes (repro names only earlier layers):
  // of the layers whose inputs are placed, the first in Keras's list goes next. The output comes
  // last, as the one layer no other takes.
  std::vector<size_t> waiting_on(graph.size(), 0);
  std::vector<std::vector<size_t>> takers(graph.size());
  for (size_t i = 0; i < graph.size(); ++i)
    for (const TensorRef& ref : graph[i].takes) {
      const size_t from = index_of[ref.layer];
      if (graph[from].input) continue;
      ++waiting_on[i];
      takers[from].push_back(i);
    }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < graph.size(); ++i)
    if (!graph[i].input && waiting_on[i] == 0) ready.push(i);
  std::vector<KerasGraphStep> order;
  std::string previous = input_names[0];
  while (!ready.empty()) {
    const size_t next = ready.top();
    ready.pop();
    const GraphLayer& g = graph[next];
    KerasGraphStep step{next, {}};
    if (g.takes.size() != 1 || g.takes[0].layer != previous)
      for (const TensorRef& ref : g.takes)
        step.inputs.push_back(ref.layer == input_names[0] ? "input" : ref.layer);
    order.push_back(std::move(step));
    previous = g.name;
    for (const size_t taker : takers[next])
      if (--waiting_on[taker] == 0) ready.push(taker);
  }
  if (order.size() + input_names.size() < graph.size()) {
    std::vector<std::string> loop;
    for (size_t i = 0; i < graph.size(); ++i)
      if (!graph[i].input && waiting_on[i] > 0) loop.push_back(graph[i].name);
    unsupported.push_back("layers " + names_text(loop) +
                          " are never computed from the input: their inputs go round in a loop");
    return {};
  }
  return order;
}

}  // namespace repro
