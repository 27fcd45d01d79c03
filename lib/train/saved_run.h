// A run folder opened for inference (repro evaluate, predict and export): its run.json, the
// config it trained (run.json's config_yaml) and the weights to use, the final ones or a
// checkpoint's. Reads and checks; trains nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/named_tensor.h"
#include "record/run_record.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace repro {

struct SavedRun {
  std::string dir;
  RunRecord record;
  RunConfig config;
  std::vector<NamedTensor> weights;  // Keras layout, the model's export order
  std::string weights_file;          // model.safetensors or checkpoints/step-N.safetensors
  int64_t checkpoint_step = -1;      // -1: the final weights
  // The optimizer's state with these weights: from the checkpoint they come from, or for the
  // final weights after find_optimizer_state().
  std::optional<CheckpointContents> optimizer;
};

// InputError (one line, naming the file) for a folder that is not a run folder, a run.json
// without config_yaml (written before repro 0.2), a model.safetensors whose weights are not the
// ones run.json recorded, or a checkpoint step that is not there (the message lists those that
// are). `checkpoint_step` -1 takes model.safetensors.
SavedRun open_saved_run(const std::string& dir, int64_t checkpoint_step = -1);

// For the final weights: the newest checkpoint's optimizer state when that checkpoint holds the
// same weights (a run that ended on a checkpoint); otherwise `run.optimizer` stays empty.
void find_optimizer_state(SavedRun& run);

// A Trainer for `run`'s config on the backend it trained on, holding `run.weights`; `threads` 0
// keeps the run's count. It reads the config's data like any Trainer unless `with_data` is false
// (predict, which brings its own images).
std::unique_ptr<Trainer> inference_trainer(const SavedRun& run, int threads = 0,
                                           bool with_data = true);

}  // namespace repro
