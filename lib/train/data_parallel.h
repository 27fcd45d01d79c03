// Data parallelism over the ranks of a Communicator: each rank computes whole 8-image chunks of
// every batch, and the chunk gradients and per-image losses are combined in chunk and image
// order, so a step's gradients and loss sums are the single process's bits for any rank count.
// It does no I/O and keeps no loop position; the trainer owns both.
//
// The gradient combine is a reduce-scatter and an allgather that never sums in rank order:
//   1. alltoallv: rank q receives, for its slice of the flattened parameters, every chunk's
//      gradient (C chunks x P/K floats), in chunk order (ranks hold contiguous chunk runs);
//   2. it folds them as the backend does in one process: acc = g_0; acc += g_1; ... (float);
//   3. allgatherv: every rank gets every folded slice, with the per-image losses, accuracy
//      flags and stop requests riding along.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "data/pipeline.h"
#include "dist/communicator.h"
#include "nn/model.h"

namespace repro {

// The images of a batch of n that rank `rank` of `ranks` computes: a contiguous run of whole
// chunks (chunk counts differ by at most one between ranks; late ranks may get none).
struct RankSpan {
  int first_image = 0, images = 0;
  int first_chunk = 0, chunks = 0;
};
RankSpan rank_span(int n, int rank, int ranks);

struct ParallelStep {
  LossSums sums;      // the whole batch's, summed in image order
  bool stop = false;  // some rank asked to stop after this step
};

class DataParallel {
 public:
  // The model must have been built with chunk_grads.
  DataParallel(Communicator& comm, Model& model, Backend& backend);

  // Forward, loss (gradient scale 1/N of the whole batch) and backward of this rank's span of
  // `batch`, then the combine: every parameter's grad holds the whole batch's gradient.
  ParallelStep step(const Batch& batch, ForwardContext ctx, bool stop_requested);

  // Layer i's output (or output gradient) of the last step for the whole batch of n, in image
  // order and plain layout, gathered from every rank (for the trace).
  std::vector<float> gather_layer(size_t i, bool grad, int n);

  // Evaluation, split like training: this rank's span of each batch, forward only (no
  // collective); finish_evaluation() gathers the per-image losses once and sums them as one
  // process does (each batch in image order from 0, then the batch sums in batch order).
  void evaluate_batch(const Batch& batch);
  LossSums finish_evaluation(int64_t& seen);

  // Seconds in the gradient combine (waiting for the slowest rank included).
  double combine_seconds() const { return combine_seconds_; }
  // Bytes this rank sent per training step in the combine (mean over the steps so far).
  double combine_bytes_per_step() const {
    return combine_steps_ > 0 ? double(combine_bytes_) / double(combine_steps_) : 0.0;
  }

 private:
  void combine_gradients(int n, const RankSpan& mine, const std::vector<double>& losses,
                         const std::vector<uint8_t>& correct, bool stop, ParallelStep& out);

  // Batch norm's statistics over the whole batch: every rank's chunk sums, gathered in rank
  // order, which is chunk order.
  class Exchange : public ChunkSumExchange {
   public:
    explicit Exchange(Communicator& comm) : comm_(comm) {}
    std::vector<double> all_chunks(const std::vector<double>& local, size_t width) override;
    int batch = 0;  // the images of the step under way

   private:
    Communicator& comm_;
  };

  Communicator& comm_;
  Exchange exchange_;
  Model& model_;
  Backend& backend_;
  std::vector<Parameter*> params_;
  std::vector<size_t> offsets_;  // parameter p's first element in the flattened gradient
  size_t total_ = 0;             // P: floats in the flattened gradient
  std::vector<float> chunk_host_, send_, recv_, folded_;
  std::vector<char> payload_, gathered_;
  std::vector<int> eval_sizes_;      // the evaluation's batch sizes so far
  std::vector<double> eval_losses_;  // this rank's images, in order
  std::vector<uint8_t> eval_correct_;
  double combine_seconds_ = 0;
  uint64_t combine_bytes_ = 0;
  int64_t combine_steps_ = 0;
};

}  // namespace repro
