// The oneDNN backend's shared plumbing: error conversion, thread settings, plain descriptors
// and the reorders at the edges of each op.
#include "backend/onednn/onednn_util.h"

#include <omp.h>

#include <algorithm>

#include "core/error.h"

namespace repro::onednn {

void throw_dnnl_error(const dnnl::error& e, const char* call, const char* file, int line) {
  throw RuntimeError("oneDNN call " + std::string(call) + " failed (" + file + ":" +
                     std::to_string(line) + "): " + e.what() + " (status " +
                     std::to_string(int(e.status)) + ")");
}

void Context::use_threads() const {
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims, tag t) {
  return REPRO_DNNL(dnnl::memory::desc(dims, dnnl::memory::data_type::f32, t));
}

tag image_tag(int block) {
  switch (block) {
    case 1: return tag::nchw;
    case 8: return tag::nChw8c;
    case 16: return tag::nChw16c;
  }
  throw RuntimeError("oneDNN backend: no layout for a channel block of " + std::to_string(block));
}

dnnl::memory::desc with_batch(const dnnl::memory::desc& md, int n) {
  dnnl::memory::desc out = md;
  out.data.dims[0] = n;
  out.data.padded_dims[0] = n;
  return out;
}

namespace {

// Offset of each index of every dimension of `md` (a blocked layout): the outer index times the
// dimension's stride, plus its digits in the inner blocks times their place values.
std::vector<std::vector<size_t>> dimension_offsets(const dnnl::memory::desc& md) {
  REPRO_CHECK(md.data.format_kind == dnnl_blocked, "oneDNN reorder: a layout is not blocked");
  const auto& b = md.data.format_desc.blocking;
  const int n = md.data.ndims;
  std::vector<int64_t> block(static_cast<size_t>(n), 1);  // each dimension's inner block size
  for (int i = 0; i < b.inner_nblks; i++) block[size_t(b.inner_idxs[i])] *= b.inner_blks[i];
  std::vector<std::vector<size_t>> offsets(static_cast<size_t>(n));
  for (int d = 0; d < n; d++) {
    for (int64_t v = 0; v < md.data.dims[d]; v++) {
      size_t off = size_t(v / block[size_t(d)]) * size_t(b.strides[d]);
      // The inner blocks from the innermost out: this dimension's digits and their place values.
      int64_t rest = v % block[size_t(d)];
      size_t place = 1;
      for (int i = b.inner_nblks - 1; i >= 0; i--) {
        if (b.inner_idxs[i] == d) {
          off += size_t(rest % b.inner_blks[i]) * place;
          rest /= b.inner_blks[i];
        }
        place *= size_t(b.inner_blks[i]);
      }
      offsets[size_t(d)].push_back(off);
    }
  }
  return offsets;
}

}  // namespace

HostReorder::HostReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  const int n = from.data.ndims;
  REPRO_CHECK(n == to.data.ndims && n <= kDims && from.data.offset0 == 0 && to.data.offset0 == 0,
              "oneDNN reorder: layouts of different tensors");
  std::vector<std::vector<size_t>> f = dimension_offsets(from), t = dimension_offsets(to);
  for (int d = 0; d < kDims; d++) {
    const int at = d - (kDims - n);  // the tensor's dims are the innermost of the six
    if (at < 0) {
      dims_[size_t(d)] = 1;
      from_off_[size_t(d)] = {0};
      to_off_[size_t(d)] = {0};
      continue;
    }
    REPRO_CHECK(from.data.dims[at] == to.data.dims[at], "oneDNN reorder: dims differ");
    dims_[size_t(d)] = int(from.data.dims[at]);
    from_off_[size_t(d)] = std::move(f[size_t(at)]);
    to_off_[size_t(d)] = std::move(t[size_t(at)]);
  }
  size_t logical = 1;
  for (int d : dims_) logical *= size_t(d);
  to_size_ = to.get_size() / sizeof(float);
  to_padded_ = to_size_ != logical;
}

void HostReorder::run(const float* from, float* to) const {
  if (to_padded_) std::fill(to, to + to_size_, 0.0f);
  const auto& F = from_off_;
  const auto& T = to_off_;
  for (int a = 0; a < dims_[0]; a++)
    for (int b = 0; b < dims_[1]; b++)
      for (int c = 0; c < dims_[2]; c++)
        for (int d = 0; d < dims_[3]; d++) {
          const size_t f = F[0][a] + F[1][b] + F[2][c] + F[3][d];
          const size_t t = T[0][a] + T[1][b] + T[2][c] + T[3][d];
          for (int e = 0; e < dims_[4]; e++)
            for (int g = 0; g < dims_[5]; g++)
              to[t + T[4][e] + T[5][g]] = from[f + F[4][e] + F[5][g]];
        }
}

EdgeMemory::EdgeMemory(const Context& ctx, const dnnl::memory::desc& plain,
                       const dnnl::memory::desc& op) {
  plain_ = REPRO_DNNL(dnnl::memory(plain, ctx.engine, DNNL_MEMORY_NONE));
  reorder_needed_ = plain != op;
  if (reorder_needed_) {
    op_ = REPRO_DNNL(dnnl::memory(op, ctx.engine));
    // Up to 64K floats (weights, small activations) the copy is this thread's; larger
    // activations take oneDNN's parallel reorder.
    host_reorder_ = op.get_size() <= (size_t(1) << 16) * sizeof(float) &&
                    op.data.format_kind == dnnl_blocked && plain.data.ndims <= 6;
    if (host_reorder_) {
      host_to_op_ = HostReorder(plain, op);
      host_from_op_ = HostReorder(op, plain);
    } else {
      to_op_ = REPRO_DNNL(dnnl::reorder(plain_, op_));
      from_op_ = REPRO_DNNL(dnnl::reorder(op_, plain_));
    }
  } else {
    op_ = plain_;
  }
}

dnnl::memory& EdgeMemory::to_op(const Context& ctx, const float* plain_data) {
  REPRO_DNNL(plain_.set_data_handle(const_cast<float*>(plain_data)));
  if (reorder_needed_ && host_reorder_)
    host_to_op_.run(plain_data, static_cast<float*>(op_.get_data_handle()));
  else if (reorder_needed_)
    REPRO_DNNL(to_op_.execute(ctx.stream, {{DNNL_ARG_FROM, plain_}, {DNNL_ARG_TO, op_}}));
  return op_;
}

dnnl::memory& EdgeMemory::cached(const float* plain_data) {
  REPRO_DNNL(plain_.set_data_handle(const_cast<float*>(plain_data)));
  return op_;
}

dnnl::memory& EdgeMemory::op_memory(float* plain_data) {
  REPRO_DNNL(plain_.set_data_handle(plain_data));
  return op_;
}

void EdgeMemory::from_op(const Context& ctx, float* plain_data) {
  REPRO_DNNL(plain_.set_data_handle(plain_data));
  if (reorder_needed_ && host_reorder_)
    host_from_op_.run(static_cast<const float*>(op_.get_data_handle()), plain_data);
  else if (reorder_needed_)
    REPRO_DNNL(from_op_.execute(ctx.stream, {{DNNL_ARG_FROM, op_}, {DNNL_ARG_TO, plain_}}));
}

}  // namespace repro::onednn
