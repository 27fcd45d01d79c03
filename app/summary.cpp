// repro summary CONFIG [--set k=v]...: loads and validates a config and prints Keras's
// model.summary() table (layer, output shape, parameter count). Builds no model, reads no data
// (but a csv table's header, which sets the input width).
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "config/config.h"
#include "data/dataset.h"

namespace repro::app {

namespace {

struct SummaryOptions {
  std::string config;
  std::vector<std::string> overrides;
};

// 21578 -> "21,578", as Keras prints counts.
std::string with_commas(int64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "(None";
  for (int64_t d : shape) out += ", " + std::to_string(d);
  return out + ")";
}

std::string padded(const std::string& text, size_t width) {
  return text.size() >= width ? text + "  " : text + std::string(width - text.size(), ' ');
}

// The layout of tf.keras's summary for a Sequential model (65 columns, splits at 29 and 55);
// columns widen instead of wrapping when a name or shape is longer.
int run_summary(const SummaryOptions& options) {
  RunConfig config = load_config(options.config, options.overrides);
  resolve_input(config);  // a table's width from its header
  const std::vector<LayerShape> shapes = infer_shapes(config);

  // A graph prints as Keras's Functional summary: the input layer first and a "Connected to"
  // column naming each layer's inputs (name[0][0]).
  const bool graph = is_graph(config);
  std::vector<std::array<std::string, 4>> rows;
  size_t name_width = 28, shape_width = 26, params_width = 10;
  int64_t total = 0, non_trainable = 0;
  if (graph) {
    const std::array<int, 3> in = input_shape(config);
    const std::vector<int64_t> dims = flat_input(config)
                                          ? std::vector<int64_t>{in[2]}
                                          : std::vector<int64_t>{in[0], in[1], in[2]};
    rows.push_back({"input_layer (InputLayer)", shape_text(dims), "0", "-"});
  }
  for (const LayerShape& layer : shapes) {
    std::string connected;
    for (int p : layer.inputs)
      connected += (connected.empty() ? "" : ", ") +
                   (p < 0 ? std::string("input_layer") : shapes[size_t(p)].name) + "[0][0]";
    rows.push_back({layer.name + " (" + layer.kind + ")", shape_text(layer.output),
                    with_commas(layer.params), connected});
    name_width = std::max(name_width, rows.back()[0].size() + 2);
    shape_width = std::max(shape_width, rows.back()[1].size() + 2);
    total += layer.params;
    non_trainable += layer.non_trainable;
  }
  size_t connected_width = 0;
  for (const auto& row : rows) connected_width = std::max(connected_width, row[3].size());
  const size_t line = std::max<size_t>(
      65, 1 + name_width + shape_width + (graph ? params_width + connected_width : 10));

  std::cout << "Model: \"" << (graph ? "functional" : "sequential") << "\"\n"
            << std::string(line, '_') << "\n";
  std::cout << " " << padded("Layer (type)", name_width) << padded("Output Shape", shape_width)
            << (graph ? padded("Param #", params_width) + "Connected to" : "Param #") << "\n";
  std::cout << std::string(line, '=') << "\n";
  for (const auto& row : rows) {
    std::cout << " " << padded(row[0], name_width) << padded(row[1], shape_width)
              << (graph ? padded(row[2], params_width) + row[3] : row[2]) << "\n";
  }
  std::cout << std::string(line, '=') << "\n";
  std::cout << "Total params: " << with_commas(total) << "\n";
  std::cout << "Trainable params: " << with_commas(total - non_trainable) << "\n";
  std::cout << "Non-trainable params: " << with_commas(non_trainable) << "\n";
  std::cout << std::string(line, '_') << "\n";
  return 0;
}

}  // namespace

void setup_summary(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SummaryOptions>();
  auto* cmd = app.add_subcommand("summary",
                                 "Print the model's layers, output shapes and "
                                 "parameter counts (Keras's model.summary())");
  cmd->add_option("config", options->config, "the run config (YAML)")->required();
  cmd->add_option("--set", options->overrides,
                  "override a config key, e.g. --set training.epochs=3 (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([options, &exit_code] { exit_code = run_summary(*options); });
}

}  // namespace repro::app
