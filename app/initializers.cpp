// repro initializers: the recipe's initializer demonstration ("Reproducibility in Keras Models"):
// each of its 11 initializers called twice with seed --seed, then two seeded and two unseeded
// GlorotNormal objects compared. Wiring only: the draws are lib/init, the seeds lib/rng.
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "init/initializers.h"
#include "record/history.h"
#include "rng/seed_stream.h"

namespace repro::app {

struct InitializersOptions {
  int64_t seed = 42;
  std::string shape = "1,1";
  std::string rng = "jax";
  bool json = false;
};

namespace {

// The recipe's initializers_list, in its order: (Keras 3 class name, config name). The recipe
// prints the class object, `<class 'keras.src.initializers.random_initializers.NAME'>`, and
// Orthogonal's class is OrthogonalInitializer.
const std::vector<std::pair<std::string, std::string>> kRecipe = {
    {"RandomNormal", "random_normal"},
    {"RandomUniform", "random_uniform"},
    {"TruncatedNormal", "truncated_normal"},
    {"VarianceScaling", "variance_scaling"},
    {"GlorotNormal", "glorot_normal"},
    {"GlorotUniform", "glorot_uniform"},
    {"HeNormal", "he_normal"},
    {"HeUniform", "he_uniform"},
    {"LecunNormal", "lecun_normal"},
    {"LecunUniform", "lecun_uniform"},
    {"OrthogonalInitializer", "orthogonal"}};

std::vector<int64_t> parse_shape(const std::string& text) {
  constexpr int64_t kMaxElements = 65536;
  int64_t elements = 1;
  std::vector<int64_t> shape;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    size_t used = 0;
    int64_t d = 0;
    try {
      d = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size() || part.empty() || d <= 0)
      throw InputError("--shape '" + text +
                       "': expected positive integers separated by commas, e.g. 3,5");
    shape.push_back(d);
    // The table prints every value: bound the product before any draw (and any overflow).
    elements = d > kMaxElements / elements ? kMaxElements + 1 : elements * d;
    if (elements > kMaxElements)
      throw InputError("--shape '" + text + "': more than " + std::to_string(kMaxElements) +
                       " values to print; give a smaller shape, e.g. 3,5");
  }
  if (shape.empty()) throw InputError("--shape is empty: give e.g. 1,1 or 3,5");
  return shape;
}

// A row-major tensor as Python prints tensor.tolist(): nested lists of float reprs; a single
// value (the recipe's float(...)) as a bare float.
std::string python_value(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  if (values.size() == 1) return python_float_repr(values[0]);
  std::string out;
  size_t next = 0;
  auto emit = [&](auto&& self, size_t dim) -> void {
    out += '[';
    for (int64_t i = 0; i < shape[dim]; ++i) {
      if (i > 0) out += ", ";
      if (dim + 1 == shape.size()) {
        out += python_float_repr(values[next++]);
      } else {
        self(self, dim + 1);
      }
    }
    out += ']';
  };
  emit(emit, 0);
  return out;
}

// np.allclose(a, b) with its defaults rtol=1e-05, atol=1e-08.
bool allclose(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(double(a[i]) - double(b[i])) <= 1e-08 + 1e-05 * std::fabs(double(b[i]))))
      return false;
  return true;
}

std::string python_bool(bool b) { return b ? "True" : "False"; }

int run_initializers(const InitializersOptions& options) {
  if (options.rng != "jax" && options.rng != "tf")
    throw InputError("--rng '" + options.rng + "' is not one of jax, tf");
  const RngKind rng = options.rng == "jax" ? RngKind::jax : RngKind::tf;
  const std::vector<int64_t> shape = parse_shape(options.shape);

  struct Row {
    std::string name;
    std::string values[2];
  };
  std::vector<Row> rows;
  for (const auto& [class_name, config_name] : kRecipe) {
    InitializerSpec spec;
    spec.name = config_name;
    Row row{class_name, {}};
    for (int iteration = 0; iteration < 2; ++iteration)
      row.values[iteration] = python_value(initialize(spec, shape, options.seed, rng), shape);
    rows.push_back(row);
  }

  // Two objects with the same seed, then two unseeded ones whose seeds come from the run's seed
  // stream in construction order (k = 0, 1), both called with the recipe's shape (3, 5).
  const std::vector<int64_t> glorot_shape = {3, 5};
  InitializerSpec glorot;
  glorot.name = "glorot_normal";
  const bool seeded_equal = allclose(initialize(glorot, glorot_shape, options.seed, rng),
                                     initialize(glorot, glorot_shape, options.seed, rng));
  const uint64_t run_seed = static_cast<uint64_t>(options.seed);
  const int64_t seed_3 = initializer_seed(run_seed, 0), seed_4 = initializer_seed(run_seed, 1);
  const bool unseeded_equal = allclose(initialize(glorot, glorot_shape, seed_3, rng),
                                       initialize(glorot, glorot_shape, seed_4, rng));

  if (options.json) {
    std::string out = "{\"rng\": \"" + options.rng +
                      "\", \"seed\": " + std::to_string(options.seed) + ", \"shape\": [";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    out += "], \"initializers\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      out += (i ? ", " : "") + std::string("{\"name\": \"") + rows[i].name +
             "\", \"iterations\": [" + rows[i].values[0] + ", " + rows[i].values[1] + "]}";
    }
    out += "], \"same_seed_equal\": " + std::string(seeded_equal ? "true" : "false") +
           ", \"unseeded_seeds\": [" + std::to_string(seed_3) + ", " + std::to_string(seed_4) +
           "], \"unseeded_equal\": " + (unseeded_equal ? "true" : "false") + "}\n";
    std::cout << out;
    return 0;
  }
  for (const Row& row : rows) {
    std::cout << "Running <class 'keras.src.initializers.random_initializers." << row.name
              << "'>\n";
    for (int iteration = 0; iteration < 2; ++iteration)
      std::cout << "\tIteration --> " << iteration << " // Result --> " << row.values[iteration]
                << "\n";
    std::cout << "\n\n";
  }
  std::cout << "Are the results equal? " << python_bool(seeded_equal) << "\n";
  std::cout << "Are the results equal? " << python_bool(unseeded_equal) << "\n";
  return 0;
}

}  // namespace

void setup_initializers(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<InitializersOptions>();
  auto* cmd = app.add_subcommand(
      "initializers", "The recipe's initializer table: seeded draws repeat, unseeded ones differ");
  cmd->add_option("--seed", options->seed,
                  "Seed of the seeded initializers and of the run's seed stream")
      ->capture_default_str();
  cmd->add_option("--shape", options->shape, "Shape to draw, comma-separated (Keras order)")
      ->capture_default_str();
  cmd->add_option("--rng", options->rng, "Which Keras backend's bits: jax or tf")
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "Print the same data as one JSON object");
  cmd->callback([options, &exit_code] { exit_code = run_initializers(*options); });
}

}  // namespace repro::app
