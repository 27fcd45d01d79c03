// The initializer names that config and CLI accept: the recipe's 11 in its order, then the rest.
// Only the vocabulary lives here; the draws are in initializers.cpp.
#include <algorithm>

#include "init/initializers.h"

namespace repro {

const std::vector<std::string>& initializer_names() {
  static const std::vector<std::string> names = {
      "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
      "glorot_normal", "glorot_uniform", "he_normal",        "he_uniform",
      "lecun_normal",  "lecun_uniform",  "orthogonal",       "zeros",
      "ones",          "constant"};
  return names;
}

bool is_known_initializer(const std::string& name) {
  const auto& names = initializer_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace repro
