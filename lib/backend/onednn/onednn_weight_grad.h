// The weight (and bias) gradient of a conv or dense op, summed over the batch.
// Fast mode: one oneDNN primitive over the whole batch on all threads (its split of the batch
// sum depends on the thread count). Deterministic mode: fixed micro-batches of kChunk
// images, each reduced by a single-threaded primitive (run in parallel over micro-batches),
// then summed in micro-batch order: the same bits for any thread count. Chunked: the same
// micro-batches, each one's gradient written out unsummed (for ranks, which sum them in order).
#pragma once

#include <functional>
#include <vector>

#include "backend/onednn/onednn_util.h"

namespace repro::onednn {

class WeightGrad {
 public:
  // make_pd(n, src, diff_dst): the weight-gradient primitive descriptor for a batch of n, with
  // src/diff_dst layouts given, or chosen by oneDNN (format any) when they are empty descs.
  using MakePd = std::function<dnnl::primitive_desc(int n, dnnl::memory::desc src,
                                                    dnnl::memory::desc diff_dst)>;
  WeightGrad(const Context& ctx, int n, bool bias, bool chunked, const dnnl::memory::desc& w_plain,
             const MakePd& make_pd);

  // The layouts run() expects its full-batch src and diff_dst in.
  const dnnl::memory::desc& src_desc() const { return src_desc_; }
  const dnnl::memory::desc& diff_dst_desc() const { return diff_dst_desc_; }

  // dw (plain weights), db (OUT) unless null, from the whole batch's src and diff_dst; chunked:
  // dw (micro-batches, plain weights) and db (micro-batches, OUT), micro-batch i's in row i.
  void run(const Context& ctx, const dnnl::memory& src, const dnnl::memory& diff_dst, float* dw,
           float* db);

 private:
  struct Kernel {  // one primitive per micro-batch size (the full size and the remainder)
    dnnl::primitive_desc pd;
    dnnl::primitive prim;
    HostReorder to_plain;  // diff weights in the primitive's layout -> plain
  };
  struct Chunk {
    int offset = 0, count = 0;
    int kernel = 0;
    dnnl::stream stream;
    dnnl::memory src, diff_dst, dw, db, scratchpad;
    std::vector<float> dw_host, db_host;  // (weights size), (OUT) of this micro-batch
  };
  void run_chunk(Chunk& chunk, const dnnl::memory& src, const dnnl::memory& diff_dst);

  bool bias_ = false;
  size_t w_size_ = 0, b_size_ = 0;
  size_t src_image_bytes_ = 0, diff_dst_image_bytes_ = 0;
  dnnl::memory::desc src_desc_, diff_dst_desc_;
  std::vector<Kernel> kernels_;
  std::vector<Chunk> chunks_;
  bool parallel_chunks_ = false;
  bool chunked_ = false;
  // Summed micro-batches in the primitive's own layout (every kernel writes the same one).
  bool sum_in_op_layout_ = false;
  size_t w_op_size_ = 0;                // floats of the primitive's diff weights, padding included
  std::vector<float> dw_sum_;           // the micro-batches' sum, in the primitive's layout
  std::vector<const float*> dw_parts_;  // each micro-batch's diff weights (its own memory)
};

}  // namespace repro::onednn
