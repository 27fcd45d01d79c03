// repro schema [--out FILE]: the config file's JSON Schema, for editors (a
// `# yaml-language-server: $schema=...` line in a config) and validators. Made from the decoder's
// own vocabulary (config/schema.h), so it names exactly the keys a config may have.
#include <iostream>

#include "commands.h"
#include "config/schema.h"
#include "core/fs.h"

namespace repro::app {

void setup_schema(CLI::App& app, int& exit_code) {
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "schema",
      "Print the config file's JSON Schema (draft-07): every key, its type, range, "
      "words and meaning");
  cmd->add_option("--out", *out, "write it to FILE (through a temporary file and a rename)");
  cmd->callback([out, &exit_code] {
    const std::string schema = config_schema_json();
    if (out->empty()) {
      std::cout << schema;
    } else {
      write_file_atomic(*out, schema);
      std::cout << "Wrote the config schema to " << *out << "\n";
    }
    exit_code = 0;
  });
}

}  // namespace repro::app
