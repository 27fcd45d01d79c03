// Checkpoints for an exact resume: weights (Keras layout) and optimizer state in one safetensors
// file, the loop position (TrainState) and the resolved config in a JSON file beside it, both in
// RUN_DIR/checkpoints/, written atomically (the JSON last: it marks a complete checkpoint).
// It does not decide when to checkpoint: the trainer does, from training.checkpoint.
#pragma once

#include <string>

namespace repro {

class Trainer;

// Writes step-<global step>.{safetensors,json} and keeps only the newest `keep` checkpoints.
// Returns the JSON's path.
std::string write_checkpoint(const std::string& run_dir, Trainer& trainer, int keep);

// Restores the newest checkpoint in RUN_DIR/checkpoints into `trainer` (weights, optimizer
// state, TrainState). Throws InputError when there is none, or when the trainer's config differs
// from the checkpoint's in any key but training.epochs (naming the keys). Returns its JSON path.
std::string restore_latest_checkpoint(const std::string& run_dir, Trainer& trainer);

}  // namespace repro
