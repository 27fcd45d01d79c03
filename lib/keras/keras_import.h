// Keras model import: the JSON that Keras 3's model.to_json() writes for a Sequential or a
// Functional model, or the config.json of a .keras archive, converted into repro config YAML (the
// layer list in Keras vocabulary, a Functional model's graph as name: and inputs:, initializers
// with their seeds, data.resize for an input other than 28x28, and from a compile_config the
// optimizer with its arguments, the loss and the metrics). It reads no weights, and never
// guesses: anything repro cannot train as Keras would is an error.
#pragma once

#include <string>
#include <string_view>

namespace repro {

// Returns the config text. Throws InputError "FILE:line:col: ..." for malformed JSON or a file
// that is not a Sequential or Functional model, and "FILE: unsupported: ..." naming every
// unsupported layer, argument and graph feature (a shared layer, a second input or output, a
// branch that reaches no output) at once, with the layer's index, name and class and what repro
// takes instead.
std::string keras_json_to_config(std::string_view json_text, const std::string& file);

}  // namespace repro
