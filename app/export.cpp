// repro export RUN [--format onnx|keras|weights.h5] [--out FILE] [--checkpoint STEP]
// [--input raw|preprocessed]: a run's model as a file another runtime loads: an ONNX graph
// (lib/export), or Keras 3's .keras archive or .weights.h5 (lib/keras). Wiring only.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "export/onnx_export.h"
#include "keras/keras_export.h"
#include "train/saved_run.h"

namespace repro::app {

namespace {

struct ExportOptions {
  std::string run;
  std::string format = "onnx";
  std::string out;  // default: model.onnx, model.keras or model.weights.h5
  int64_t checkpoint = -1;
  std::string input = "raw";
};

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// metadata.json's date_saved, in Keras's format: SOURCE_DATE_EPOCH when set (the
// reproducible-builds convention, so an export can be made byte for byte again), else now; UTC.
std::string date_saved() {
  std::time_t when = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
    char* end = nullptr;
    const long long value = std::strtoll(epoch, &end, 10);
    if (end == epoch || *end != '\0' || value < 0)
      throw InputError("SOURCE_DATE_EPOCH='" + std::string(epoch) +
                       "': not a count of seconds since 1970; unset it or give one");
    when = static_cast<std::time_t>(value);
  }
  std::tm utc{};
  gmtime_r(&when, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d@%H:%M:%S", &utc);
  return text;
}

int run_export(ExportOptions options) {
  const bool keras = options.format == "keras", weights_h5 = options.format == "weights.h5";
  if (options.out.empty())
    options.out = keras ? "model.keras" : weights_h5 ? "model.weights.h5" : "model.onnx";
  // Keras loads only these names (load_model wants .keras, load_weights .weights.h5).
  if (keras && !ends_with(options.out, ".keras"))
    throw InputError("--out " + options.out + ": Keras's load_model reads only files named " +
                     "*.keras; name it so");
  if (weights_h5 && !ends_with(options.out, ".weights.h5"))
    throw InputError("--out " + options.out + ": Keras's load_weights reads only files named " +
                     "*.weights.h5; name it so");
  if ((keras || weights_h5) && options.input != "raw")
    throw InputError("--input applies to --format onnx; a Keras model always takes the " +
                     std::string("preprocessed float images"));
  SavedRun run = open_saved_run(options.run, options.checkpoint);
  const std::string source = options.checkpoint < 0
                                 ? "final weights"
                                 : "checkpoint step " + std::to_string(options.checkpoint);

  if (keras || weights_h5) {
    find_optimizer_state(run);
    KerasOptimizerState state;
    if (run.optimizer) {
      state.iterations = run.optimizer->optimizer_iterations;
      state.learning_rate = run.optimizer->learning_rate;
      state.slots = run.optimizer->optimizer_slots;
    }
    const KerasOptimizerState* optimizer = run.optimizer ? &state : nullptr;
    const std::string bytes = keras
                                  ? keras_archive(run.config, run.weights, optimizer, date_saved())
                                  : keras_weights_h5(run.config, run.weights, optimizer);
    write_file_atomic(options.out, bytes);
    const std::array<int, 3> in = input_shape(run.config);
    const std::string shape = flat_input(run.config)
                                  ? "(N, " + std::to_string(in[2]) + ") table rows"
                                  : "(N, " + std::to_string(in[0]) + ", " + std::to_string(in[1]) +
                                        ", " + std::to_string(in[2]) + ") after preprocessing";
    std::printf("Exported %s (%s) to %s: Keras %s, input float %s, optimizer state %s\n",
                options.run.c_str(), source.c_str(), options.out.c_str(),
                keras ? ".keras archive" : ".weights.h5", shape.c_str(),
                run.optimizer ? ("from checkpoint step " + std::to_string(run.optimizer->step) +
                                 " (iteration " + std::to_string(state.iterations) + ")")
                                    .c_str()
                              : "none (no checkpoint holds these weights)");
    return 0;
  }

  OnnxExportOptions onnx;
  onnx.preprocessed = options.input == "preprocessed";
  onnx.graph_name = run.config.name.empty() ? "repro" : run.config.name;
  onnx.producer_version = REPRO_VERSION;
  const std::string bytes = export_onnx(run.config, run.weights, onnx);
  write_file_atomic(options.out, bytes);
  const int channels = input_shape(run.config)[2];
  const std::string input =
      flat_input(run.config) ? "float (N, " + std::to_string(channels) + ") table rows"
      : onnx.preprocessed ? "float (N, H, W, " + std::to_string(channels) + ") after preprocessing"
      : channels == 1
          ? "uint8 images (N, H, W) as repro reads them"
          : "uint8 images (N, H, W, " + std::to_string(channels) + ") as repro reads them";
  std::printf("Exported %s (%s) to %s: ONNX opset %d, input %s, output probabilities\n",
              options.run.c_str(), source.c_str(), options.out.c_str(), kOnnxOpset, input.c_str());
  return 0;
}

}  // namespace

void setup_export(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export", "Write a run's model for another runtime (ONNX, Keras .keras or .weights.h5)");
  cmd->add_option("RUN", options->run, "the run folder (the --out of repro train)")->required();
  cmd->add_option("--format", options->format,
                  "onnx; keras (a .keras archive: config, weights, optimizer state); "
                  "weights.h5 (Keras's save_weights file)")
      ->check(CLI::IsMember({"onnx", "keras", "weights.h5"}))
      ->capture_default_str();
  cmd->add_option("--out", options->out,
                  "the file to write (default model.onnx, model.keras or model.weights.h5)");
  cmd->add_option("--checkpoint", options->checkpoint,
                  "the weights of the checkpoint of this step (default: the final weights)")
      ->check(integer_range(0, limits::steps));
  cmd->add_option("--input", options->input,
                  "onnx: raw, uint8 images with the preprocessing in the graph; preprocessed, "
                  "float NHWC after it")
      ->check(CLI::IsMember({"raw", "preprocessed"}))
      ->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = run_export(*options); });
}

}  // namespace repro::app
