// repro export RUN --format onnx [--out model.onnx] [--checkpoint STEP] [--input raw|preprocessed]:
// a run's model as an ONNX file another runtime loads (lib/export). Wiring only.
#include <cstdio>

#include "commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "export/onnx_export.h"
#include "train/saved_run.h"

namespace repro::app {

namespace {

struct ExportOptions {
  std::string run;
  std::string format = "onnx";
  std::string out = "model.onnx";
  int64_t checkpoint = -1;
  std::string input = "raw";
};

int run_export(const ExportOptions& options) {
  const SavedRun run = open_saved_run(options.run, options.checkpoint);
  OnnxExportOptions onnx;
  onnx.preprocessed = options.input == "preprocessed";
  onnx.graph_name = run.config.name.empty() ? "repro" : run.config.name;
  onnx.producer_version = REPRO_VERSION;
  const std::string bytes = export_onnx(run.config, run.weights, onnx);
  write_file_atomic(options.out, bytes);
  std::printf("Exported %s (%s) to %s: ONNX opset %d, input %s, output probabilities\n",
              options.run.c_str(),
              options.checkpoint < 0
                  ? "final weights"
                  : ("checkpoint step " + std::to_string(options.checkpoint)).c_str(),
              options.out.c_str(), kOnnxOpset,
              onnx.preprocessed ? "float (N, H, W, 1) after preprocessing"
                                : "uint8 images (N, H, W) as repro reads them");
  return 0;
}

}  // namespace

void setup_export(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand("export", "Write a run's model for another runtime (ONNX)");
  cmd->add_option("RUN", options->run, "the run folder (the --out of repro train)")->required();
  cmd->add_option("--format", options->format, "onnx")
      ->check(CLI::IsMember({"onnx"}))
      ->capture_default_str();
  cmd->add_option("--out", options->out, "the file to write")->capture_default_str();
  cmd->add_option("--checkpoint", options->checkpoint,
                  "the weights of the checkpoint of this step (default: the final weights)")
      ->check(integer_range(0, limits::steps));
  cmd->add_option("--input", options->input,
                  "raw: uint8 images with the preprocessing in the graph; preprocessed: float "
                  "NHWC after it")
      ->check(CLI::IsMember({"raw", "preprocessed"}))
      ->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = run_export(*options); });
}

}  // namespace repro::app
