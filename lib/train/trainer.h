// The epoch loop with Keras fit() semantics: per-epoch running means of loss and accuracy
// weighted by batch size, validation on the test split after each epoch, history, per-epoch
// weight digests and times, and the run folder. It never prints: progress goes to an observer.
//
// All of the loop's position lives in TrainState so a checkpoint can save it and a
// resumed run can continue bit-identically: weights and optimizer state come from the model and
// optimizer, the pipeline restarts with start_epoch(state.epoch, state.batch).
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/config.h"
#include "data/dataset.h"
#include "data/pipeline.h"
#include "dist/communicator.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/steps.h"
#include "record/trace.h"
#include "train/callbacks.h"

namespace repro {

struct TrainOptions {
  std::string backend;  // "" = resolve_backend_name(): by device and determinism
  int threads = 0;      // per rank; 0 = config.threads, and when that is 0 too, the host's cores
                        // shared among the ranks on it
  Communicator* comm = nullptr;  // the job's ranks (data parallel); null: one process
  std::string isa = "";          // determinism: portable's ISA path ("" = $REPRO_ISA or the best)
  // The weights will come from a checkpoint or a saved run (resume, evaluate, predict, export):
  // config.initial_weights is not read.
  bool weights_follow = false;
  // False for predict: the data of the config is not read, and only predict() may be called.
  bool with_data = true;
};

class DataParallel;

// Where the loop stands; everything an exact resume needs besides weights and optimizer state.
struct TrainState {
  std::string run_id;                  // new_run_id() for a new run; a checkpoint's when resumed
  std::string initial_weights_sha256;  // the weights before step 1
  int64_t global_step = 0;             // optimizer steps done (the dropout key uses it, 0-based)
  int epoch = 0;                    // 0-based epoch in progress (== epochs when training is done)
  int64_t batch = 0;                // next batch index within that epoch
  double loss_sum = 0;              // the epoch in progress: sum of per-sample losses,
  int64_t correct = 0;              //   samples classified correctly,
  int64_t seen = 0;                 //   samples seen
  double epoch_seconds = 0;         // training time of the epoch in progress so far
  History history;                  // finished epochs
  std::vector<EpochRecord> epochs;  // finished epochs: seconds and weight digests
  std::vector<TraceEntry> trace;    // training.trace digests so far
  std::vector<StepRecord> steps;    // training.log rows so far (steps.csv)
  CallbackState callbacks;          // EarlyStopping, checkpoint.best, ReduceLROnPlateau
  bool early_stopped = false;       // EarlyStopping ended the run (it is finished, not stopped)
  bool restored_best = false;       // restore_best_weights put the best epoch's weights back
  std::vector<NamedTensor> best_weights;  // EarlyStopping's kept weights (restore_best_weights)
};

// The metrics Keras shows and records; float32 values, as Keras's metrics are.
struct EpochMetrics {
  float loss = 0, accuracy = 0;
  float val_loss = 0, val_accuracy = 0;
  bool has_validation = false;
};

// Seconds per part of the work, for --profile.
struct TrainProfile {
  OpTimes ops;      // "conv fwd", "conv bwd", "pool fwd", "upload", ... (the model's)
  double loss = 0;  // softmax cross-entropy and its gradient
  double optimizer = 0;
  double data_wait = 0;       // waiting for the pipeline's next batch
  double validation = 0;      // whole evaluation passes
  double training = 0;        // whole training epochs
  double combine = 0;         // with ranks: combining gradients and losses (waits included)
  double bytes_per_step = 0;  // with ranks: bytes this rank sent to the others per step
};

// Progress callbacks; the default does nothing.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void epoch_begin(int epoch, int epochs, int64_t steps) {}  // epoch is 1-based
  // After each training step: `done` steps of `steps` in this epoch, running means so far.
  virtual void batch_end(int64_t done, int64_t steps, const EpochMetrics& running) {}
  // After the epoch's validation.
  virtual void epoch_end(int epoch, const EpochMetrics& metrics, double seconds) {}
};

class Trainer {
 public:
  // Loads the data, makes the backend, builds the model (drawing its weights) and the optimizer.
  Trainer(const RunConfig& config, const TrainOptions& options);
  ~Trainer();

  // Trains from state() to config.training.epochs (stopping early after `max_steps` total
  // optimizer steps when it is > 0, leaving state() mid-epoch for a checkpoint).
  void run(TrainObserver& observer, int64_t max_steps = 0);

  // Checkpoints go to RUN_DIR/checkpoints as training.checkpoint asks, and when run() stops
  // before the last epoch's end (none when dir is "");
  // with ranks, rank 0 alone writes them.
  void set_run_dir(const std::string& dir) { run_dir_ = dir; }
  // When *flag becomes non-zero (a signal handler sets it), run() finishes the current step,
  // writes a checkpoint (when a run folder is set) and returns with stopped() true.
  void set_stop_flag(const volatile std::sig_atomic_t* flag) { stop_flag_ = flag; }
  bool stopped() const { return stopped_; }
  const std::string& last_checkpoint() const { return last_checkpoint_; }

  // Mean loss and accuracy over the test split, without dropout.
  EpochMetrics evaluate();
  // Keras's evaluate() on `split`: the same, over the test or the (unshuffled) training split.
  enum class Split { test, train, validation };
  EpochMetrics evaluate(Split split);
  // Class probabilities (N, K) for `images` (N, H, W uint8; one label per image, ignored),
  // preprocessed as training preprocesses them (scale, resize): the softmax of the model's logits,
  // in float.
  std::vector<float> predict(const Dataset& images);

  // Where run() stopped before the last epoch's end ("steps" or "signal"); empty when it did not.
  std::optional<StopRecord> stop_record() const;

  // Writes model.safetensors, history.json, trace.jsonl (with training.trace), steps.csv (with
  // training.log) and run.json (last, with every other file's SHA-256) into `dir`, staged and
  // renamed together. Also for a run that stopped early: its finished epochs and where it stopped.
  void write_run_folder(const std::string& dir) const;

  const RunConfig& config() const { return config_; }
  TrainState& state() { return state_; }
  Model& model() { return *model_; }
  Optimizer& optimizer() { return *optimizer_; }
  Backend& backend() { return *backend_; }
  const TrainProfile& profile() const;
  int threads() const { return threads_; }
  int64_t steps_per_epoch() const;
  // Every epoch done, or EarlyStopping ended the run.
  bool finished() const;
  int rank() const { return comm_->rank(); }
  int ranks() const { return comm_->size(); }
  // SHA-256 of all weights: float32 bytes, parameter order, Keras layout.
  std::string weights_sha256() const;
  // The run record as it stands (completed once every epoch is done and evaluated).
  RunRecord run_record() const;
  // The test split's metrics on the final weights; only when tested() (a run that stopped
  // early has none, never another epoch's validation).
  const EpochMetrics& test_metrics() const { return test_; }
  bool tested() const { return tested_; }

 private:
  // Reads the config's data, checks it against the model and makes the two pipelines.
  void open_data(bool ranks);
  void train_epoch(TrainObserver& observer, int64_t max_steps);
  void checkpoint();
  void record_trace(int n);
  EpochMetrics evaluate_on(Pipeline& pipeline);
  void record_initial_trace();
  std::string device_sha256(const float* data, size_t count) const;
  void apply_callbacks();
  void load_initial_weights();
  void join_ranks();

  RunConfig config_;
  int threads_ = 0;
  std::unique_ptr<Backend> backend_;
  Splits splits_;
  std::unique_ptr<Pipeline> train_pipeline_, test_pipeline_;  // test: null without a test split
  std::unique_ptr<Pipeline> validation_pipeline_;             // data.validation_split's images
  std::unique_ptr<Model> model_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<Array> weights_, grads_;  // the model's parameters, in optimizer order
  TrainState state_;
  EpochMetrics test_;
  bool tested_ = false;
  mutable TrainProfile profile_;
  std::string run_dir_;
  const volatile std::sig_atomic_t* stop_flag_ = nullptr;
  bool stopped_ = false;
  std::string last_checkpoint_;
  int64_t last_checkpoint_step_ = -1;
  SingleProcess single_;
  Communicator* comm_ = &single_;
  std::unique_ptr<DataParallel> parallel_;  // with more than one rank
  bool joined_ = false;                     // join_ranks() done
  std::vector<std::string> hosts_;          // per rank
  std::vector<int> rank_threads_;           // per rank
};

// The backend a config runs on: `name` when given; else portable (cpu) or portable_cuda (cuda)
// under determinism: portable, and onednn (cpu) or cudnn (cuda) otherwise.
std::string resolve_backend_name(const RunConfig& config, const std::string& name);

// SHA-256 (hex) of the flattened config text ("key=value\n" per entry): run.json's config_sha256.
std::string config_sha256(const RunConfig& config);

}  // namespace repro
