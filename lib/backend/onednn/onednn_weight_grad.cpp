// Weight gradients on oneDNN, fast or thread-count invariant (see onednn_weight_grad.h).
#include "backend/onednn/onednn_weight_grad.h"

#include <omp.h>

#include <algorithm>

#include "core/error.h"

namespace repro::onednn {

namespace {

using dnnl::memory;

// Bytes of one image in a layout whose batch dimension is outermost and unblocked.
size_t image_bytes(const memory::desc& md) {
  const auto& blocking = md.data.format_desc.blocking;
  REPRO_CHECK(md.data.format_kind == dnnl_blocked, "oneDNN chose a non-blocked layout");
  for (int i = 0; i < blocking.inner_nblks; i++)
    REPRO_CHECK(blocking.inner_idxs[i] != 0, "oneDNN chose a layout that blocks the batch");
  for (int d = 1; d < md.data.ndims; d++)
    REPRO_CHECK(blocking.strides[0] >= blocking.strides[d],
                "oneDNN chose a layout whose batch dimension is not outermost");
  REPRO_CHECK(md.get_size() == size_t(md.data.padded_dims[0]) * blocking.strides[0] * sizeof(float),
              "oneDNN chose a layout whose images are not contiguous");
  return size_t(blocking.strides[0]) * sizeof(float);
}

}  // namespace

WeightGrad::WeightGrad(const Context& ctx, int n, bool bias, bool chunked,
                       const memory::desc& w_plain, const MakePd& make_pd)
    : bias_(bias), chunked_(chunked) {
  w_size_ = w_plain.get_size() / sizeof(float);
  dnnl::primitive_desc full = make_pd(n, memory::desc(), memory::desc());
  src_desc_ = full.query_md(dnnl::query::src_md);
  diff_dst_desc_ = full.query_md(dnnl::query::diff_dst_md);
  if (bias_) b_size_ = full.query_md(dnnl::query::diff_weights_md, 1).get_size() / sizeof(float);

  auto add_kernel = [&](dnnl::primitive_desc pd) {
    Kernel k;
    k.pd = pd;
    k.prim = REPRO_DNNL(dnnl::primitive(pd));
    k.to_plain = HostReorder(pd.query_md(dnnl::query::diff_weights_md), w_plain);
    kernels_.push_back(k);
  };
  std::vector<std::pair<int, int>> pieces;  // (offset, count)
  const bool micro_batches = ctx.deterministic || chunked;
  if (!micro_batches) {
    add_kernel(full);
    pieces.push_back({0, n});
  } else {
    src_image_bytes_ = image_bytes(src_desc_);
    diff_dst_image_bytes_ = image_bytes(diff_dst_desc_);
    int whole = n / kChunk, rest = n % kChunk;
    for (int size : {kChunk, rest}) {
      if (size == 0 || (size == kChunk && whole == 0)) continue;
      single_threaded([&] {
        add_kernel(make_pd(size, with_batch(src_desc_, size), with_batch(diff_dst_desc_, size)));
        return 0;
      });
    }
    for (int i = 0; i < whole; i++) pieces.push_back({i * kChunk, kChunk});
    if (rest) pieces.push_back({whole * kChunk, rest});
    parallel_chunks_ = true;
  }

  // Summed micro-batches: where every kernel writes the same layout, the sum runs there (each
  // element's sum in micro-batch order, so the layout does not change its bits) and one reorder
  // lands it in the caller's plain dw, instead of a reorder per micro-batch.
  const memory::desc dw_md = kernels_[0].pd.query_md(dnnl::query::diff_weights_md);
  sum_in_op_layout_ = !chunked_;
  for (const Kernel& k : kernels_)
    sum_in_op_layout_ = sum_in_op_layout_ && k.pd.query_md(dnnl::query::diff_weights_md) == dw_md;
  if (sum_in_op_layout_) {
    w_op_size_ = dw_md.get_size() / sizeof(float);
    if (pieces.size() > 1) dw_sum_.resize(w_op_size_);
  }

  for (auto [offset, count] : pieces) {
    Chunk c;
    c.offset = offset;
    c.count = count;
    c.kernel = (micro_batches && count != kChunk) ? int(kernels_.size()) - 1 : 0;
    const dnnl::primitive_desc& pd = kernels_[c.kernel].pd;
    c.stream = REPRO_DNNL(dnnl::stream(ctx.engine));
    c.src = REPRO_DNNL(memory(pd.query_md(dnnl::query::src_md), ctx.engine, DNNL_MEMORY_NONE));
    c.diff_dst =
        REPRO_DNNL(memory(pd.query_md(dnnl::query::diff_dst_md), ctx.engine, DNNL_MEMORY_NONE));
    c.dw = REPRO_DNNL(memory(pd.query_md(dnnl::query::diff_weights_md), ctx.engine));
    if (!sum_in_op_layout_) c.dw_host.resize(w_size_);
    if (bias_) {
      c.db_host.resize(b_size_);
      c.db = REPRO_DNNL(
          memory(pd.query_md(dnnl::query::diff_weights_md, 1), ctx.engine, c.db_host.data()));
    }
    c.scratchpad = REPRO_DNNL(memory(pd.scratchpad_desc(), ctx.engine));
    if (sum_in_op_layout_) dw_parts_.push_back(static_cast<const float*>(c.dw.get_data_handle()));
    chunks_.push_back(std::move(c));
  }
}

void WeightGrad::run_chunk(Chunk& c, const memory& src, const memory& diff_dst) {
  if (parallel_chunks_) {
    // A micro-batch is a contiguous slice of the full tensors (batch outermost).
    char* s = static_cast<char*>(src.get_data_handle()) + c.offset * src_image_bytes_;
    char* d = static_cast<char*>(diff_dst.get_data_handle()) + c.offset * diff_dst_image_bytes_;
    REPRO_DNNL(c.src.set_data_handle(s));
    REPRO_DNNL(c.diff_dst.set_data_handle(d));
  } else {
    REPRO_DNNL(c.src.set_data_handle(src.get_data_handle()));
    REPRO_DNNL(c.diff_dst.set_data_handle(diff_dst.get_data_handle()));
  }
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, c.src},
                                          {DNNL_ARG_DIFF_DST, c.diff_dst},
                                          {DNNL_ARG_DIFF_WEIGHTS, c.dw},
                                          {DNNL_ARG_SCRATCHPAD, c.scratchpad}};
  if (bias_) args[DNNL_ARG_DIFF_BIAS] = c.db;
  const Kernel& k = kernels_[c.kernel];
  REPRO_DNNL(k.prim.execute(c.stream, args));
  if (!sum_in_op_layout_)
    k.to_plain.run(static_cast<const float*>(c.dw.get_data_handle()), c.dw_host.data());
}

void WeightGrad::run(const Context& ctx, const memory& src, const memory& diff_dst, float* dw,
                     float* db) {
  int count = int(chunks_.size());
  if (parallel_chunks_) {
    // oneDNN runs sequentially inside an OpenMP parallel region; every micro-batch has its own
    // stream, scratchpad and output, so they run side by side.
    std::exception_ptr failure;
#pragma omp parallel for schedule(static) num_threads(ctx.threads)
    for (int i = 0; i < count; i++) {
      try {
        run_chunk(chunks_[i], src, diff_dst);
      } catch (...) {
#pragma omp critical
        failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  } else {
    run_chunk(chunks_[0], src, diff_dst);
  }
  if (chunked_) {
    for (int i = 0; i < count; i++) {
      std::copy(chunks_[i].dw_host.begin(), chunks_[i].dw_host.end(), dw + i * w_size_);
      if (bias_ && db)
        std::copy(chunks_[i].db_host.begin(), chunks_[i].db_host.end(), db + i * b_size_);
    }
    return;
  }
  // Sum the micro-batches in their order; each element is independent of the others.
  if (sum_in_op_layout_) {
    const float* from = static_cast<const float*>(chunks_[0].dw.get_data_handle());
    if (count > 1) {
      const float* const* parts = dw_parts_.data();
      float* sum = dw_sum_.data();
#pragma omp parallel for schedule(static) num_threads(ctx.threads)
      for (size_t j = 0; j < w_op_size_; j++) {
        float acc = parts[0][j];
        for (int i = 1; i < count; i++) acc += parts[i][j];
        sum[j] = acc;
      }
      from = sum;
    }
    kernels_[0].to_plain.run(from, dw);
  } else {
#pragma omp parallel for schedule(static) num_threads(ctx.threads)
    for (size_t j = 0; j < w_size_; j++) {
      float acc = chunks_[0].dw_host[j];
      for (int i = 1; i < count; i++) acc += chunks_[i].dw_host[j];
      dw[j] = acc;
    }
  }
  if (bias_ && db) {
    for (size_t j = 0; j < b_size_; j++) {
      float acc = chunks_[0].db_host[j];
      for (int i = 1; i < count; i++) acc += chunks_[i].db_host[j];
      db[j] = acc;
    }
  }
}

}  // namespace repro::onednn
