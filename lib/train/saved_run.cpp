// Opening a run folder for inference.
#include "train/saved_run.h"

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "record/safetensors.h"
#include "train/checkpoint.h"

namespace repro {

namespace fs = std::filesystem;

SavedRun open_saved_run(const std::string& dir, int64_t checkpoint_step) {
  std::error_code error;
  if (!fs::is_directory(dir, error))
    throw InputError(dir + ": no such run folder; give the --out folder of a repro train run");
  const fs::path run_json = fs::path(dir) / "run.json";
  if (!fs::exists(run_json))
    throw InputError(dir + ": not a run folder (no run.json); a run still training has none yet");
  SavedRun run;
  run.dir = dir;
  run.record = read_run_record(run_json.string());
  if (run.record.config_yaml.empty())
    throw InputError(run_json.string() + ": written by repro " + run.record.repro_version +
                     ", which did not record the config as YAML; train the run again with this "
                     "repro to evaluate, predict or export it");
  run.config = parse_config(run.record.config_yaml, run_json.string() + " (config_yaml)");
  run.config.path = run.record.config_path;
  if (checkpoint_step < 0) {
    run.weights_file = (fs::path(dir) / "model.safetensors").string();
    run.weights = read_safetensors(run.weights_file);
    const std::string digest = weights_sha256(run.weights);
    if (!run.record.weights_sha256.empty() && digest != run.record.weights_sha256)
      throw InputError(run.weights_file + ": changed after the run (its weights' SHA-256 " +
                       digest.substr(0, 12) + ", run.json recorded " +
                       run.record.weights_sha256.substr(0, 12) +
                       "); restore it, or use a checkpoint with --checkpoint STEP");
  } else {
    run.checkpoint_step = checkpoint_step;
    run.weights_file = checkpoint_tensors_path(dir, checkpoint_step);
    CheckpointContents contents = read_checkpoint(dir, checkpoint_step);
    run.weights = std::move(contents.weights);
    contents.weights.clear();
    run.optimizer = std::move(contents);
  }
  return run;
}

void find_optimizer_state(SavedRun& run) {
  if (run.optimizer) return;
  const int64_t newest = newest_checkpoint_step(run.dir);
  if (newest < 0) return;
  CheckpointContents contents = read_checkpoint(run.dir, newest);
  if (weights_sha256(contents.weights) != weights_sha256(run.weights)) return;
  contents.weights.clear();
  run.optimizer = std::move(contents);
}

std::unique_ptr<Trainer> inference_trainer(const SavedRun& run, int threads, bool with_data) {
  RunConfig config = run.config;
  if (threads > 0) config.threads = threads;
  TrainOptions options;
  options.backend = run.record.backend;
  options.weights_follow = true;
  options.with_data = with_data;
  auto trainer = std::make_unique<Trainer>(config, options);
  try {
    trainer->model().import_weights(run.weights);
  } catch (const InputError& e) {
    throw InputError(run.weights_file + ": " + e.what());
  }
  return trainer;
}

}  // namespace repro
