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

  std::vector<std::array<std::string, 3>> rows;
  size_t name_width = 28, shape_width = 26;
  int64_t total = 0, non_trainable = 0;
  for (const LayerShape& layer : shapes) {
    rows.push_back({layer.name + " (" + layer.kind + ")", shape_text(layer.output),
                    with_commas(layer.params)});
    name_width = std::max(name_width, rows.back()[0].size() + 2);
    shape_width = std::max(shape_width, rows.back()[1].size() + 2);
    total += layer.params;
    non_trainable += layer.non_trainable;
  }
  const size_t line = std::max<size_t>(65, 1 + name_width + shape_width + 10);

  std::cout << "Model: \"sequential\"\n" << std::string(line, '_') << "\n";
  std::cout << " " << padded("Layer (type)", name_width) << padded("Output Shape", shape_width)
            << "Param #\n";
  std::cout << std::string(line, '=') << "\n";
  for (const auto& row : rows) {
    std::cout << " " << padded(row[0], name_width) << padded(row[1], shape_width) << row[2] << "\n";
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
