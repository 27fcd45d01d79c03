// The initializer names that config and CLI accept, in the recipe's order.
// Only the vocabulary lives here; the draws are in initializers.cpp.
#include <algorithm>

#include "init/initializers.h"

namespace repro {

const std::vector<std::string>& initializer_names() {
  // The recipe's 11 first, then the rest of Keras's built-ins.
  static const std::vector<std::string> names = {
      "random_normal",  "random_uniform", "truncated_normal", "zeros",
      "ones",           "glorot_normal",  "glorot_uniform",   "he_normal",
      "he_uniform",     "orthogonal",     "variance_scaling", "lecun_normal",
      "lecun_uniform",  "constant"};
  return names;
}

bool is_known_initializer(const std::string& name) {
  const auto& names = initializer_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace repro
