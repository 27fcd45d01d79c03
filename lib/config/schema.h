// The config file's JSON Schema (`repro schema`) and the key paths `--set` completes, both made
// from the decoder's own vocabulary (config/vocabulary.h and the decoder's argument lists): a key
// the decoder reads is in the schema, and the schema has no key the decoder rejects.
#pragma once

#include <string>
#include <vector>

namespace repro {

// The schema, JSON Schema draft-07 (what editors' YAML plugins and python3-jsonschema read): each
// key's type, integer range (config.h's limits), closed list of words, the per-layer,
// per-initializer, per-optimizer and per-schedule arguments, and a one-line description. No
// other key is allowed in any map. Pretty-printed, ending in a newline. Throws RuntimeError when
// the description tables below lack a key the decoder reads, or describe one it does not.
std::string config_schema_json();

// Every key path the schema knows outside the model's layers, parents first: "seed", "data",
// "data.batch_size", ..., "training.optimizer.learning_rate.decay_steps" (the model's keys,
// model.N.LAYER.ARGUMENT, depend on the config's layers).
std::vector<std::string> config_key_paths();

}  // namespace repro
