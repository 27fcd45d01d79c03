// repro import keras MODEL.json|MODEL.keras [--out CONFIG.yaml]: converts a Keras Sequential or
// Functional model (model.to_json(), or the config.json of a .keras archive with its
// compile_config) into a repro config, printed or written atomically. Wiring only: the conversion
// is lib/keras.
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "core/fs.h"
#include "keras/keras_archive.h"
#include "keras/keras_import.h"

namespace repro::app {

namespace {

struct ImportOptions {
  std::string model;
  std::string out;
};

// A Keras model's JSON is a few KB; a file past this is not one.
constexpr int64_t kMaxModelJsonBytes = int64_t{16} << 20;

int run_import_keras(const ImportOptions& o) {
  const bool archive = o.model.size() > 6 && o.model.compare(o.model.size() - 6, 6, ".keras") == 0;
  const std::string json =
      archive ? read_keras_archive_config(o.model) : read_file(o.model, kMaxModelJsonBytes);
  const std::string yaml =
      keras_json_to_config(json, archive ? o.model + " (config.json)" : o.model);
  if (o.out.empty()) {
    std::cout << yaml;
  } else {
    write_file_atomic(o.out, yaml);
    std::cerr << "wrote " << o.out << "\n";
  }
  return 0;
}

}  // namespace

void setup_import(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("import", "Convert a model from another framework into a config");
  cmd->require_subcommand(1);
  auto options = std::make_shared<ImportOptions>();
  auto* keras = cmd->add_subcommand("keras",
                                    "Convert a Keras Sequential or Functional model "
                                    "(model.to_json(), or a .keras archive) into a config");
  keras
      ->add_option("model", options->model,
                   "The JSON file model.to_json() wrote, or the .keras file model.save() wrote")
      ->required();
  keras->add_option("--out", options->out, "Write the config here (default: print it)");
  keras->callback([options, &exit_code] { exit_code = run_import_keras(*options); });
}

}  // namespace repro::app
