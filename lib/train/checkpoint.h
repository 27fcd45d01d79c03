// Checkpoints for an exact resume: weights (Keras layout) and optimizer state in one safetensors
// file, the loop position (TrainState) and the resolved config in a JSON file beside it, both in
// RUN_DIR/checkpoints/, written atomically (the JSON last: it marks a complete checkpoint).
// It does not decide when to checkpoint: the trainer does, from training.checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/named_tensor.h"

namespace repro {

class Trainer;

// What a run folder's newest checkpoint says about its run, read before a Trainer exists, so
// `repro train --resume DIR` needs no config: the effective config (the file and every --set,
// as canonical YAML), the backend and the run id. Format 2 checkpoints hold neither config YAML
// nor backend (both "").
struct CheckpointHeader {
  std::string path;         // the checkpoint's JSON file
  std::string run_id;       // "" in format 2
  std::string config_yaml;  // to_yaml() of the run's config
  std::string config_path;  // the config file the run started from
  std::string backend;      // the backend it trained on ("onednn", "portable", ...)
};

// RUN_DIR/checkpoints/step-<step>.safetensors; InputError listing the steps there are when there
// is no complete checkpoint of that step.
std::string checkpoint_tensors_path(const std::string& run_dir, int64_t step);

// What one checkpoint holds for inference and export: the model's weights ("conv2d/kernel") and
// the optimizer's state as Keras keeps it: its iteration count, the rate ReduceLROnPlateau set
// (none: the config's rate or schedule) and the slots "<param>/<slot>" in Keras layout.
struct CheckpointContents {
  int64_t step = 0;
  std::vector<NamedTensor> weights;
  std::vector<NamedTensor> optimizer_slots;
  int64_t optimizer_iterations = 0;
  std::optional<float> learning_rate;
};

// Step `step`'s checkpoint (InputError as checkpoint_tensors_path when there is none, or naming
// the file when it is damaged).
CheckpointContents read_checkpoint(const std::string& run_dir, int64_t step);

// The newest complete checkpoint's step; -1 when the folder has none.
int64_t newest_checkpoint_step(const std::string& run_dir);

// The newest checkpoint in RUN_DIR/checkpoints; InputError when there is none or it is damaged.
CheckpointHeader read_checkpoint_header(const std::string& run_dir);

// Writes step-<global step>.{safetensors,json} and keeps only the newest `keep` checkpoints.
// Returns the JSON's path.
std::string write_checkpoint(const std::string& run_dir, Trainer& trainer, int keep);

// Restores the newest checkpoint in RUN_DIR/checkpoints into `trainer` (weights, optimizer
// state, TrainState). Throws InputError when there is none, when the trainer's config differs
// from the checkpoint's in a key that changes results (naming them), when the backend differs,
// or when the folder's run.json names another run. Returns its JSON path.
std::string restore_latest_checkpoint(const std::string& run_dir, Trainer& trainer);

}  // namespace repro
