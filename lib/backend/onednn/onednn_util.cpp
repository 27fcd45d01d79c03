// The oneDNN backend's shared plumbing: error conversion, thread settings, plain descriptors
// and the reorders at the edges of each op.
#include "backend/onednn/onednn_util.h"

#include <omp.h>

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

EdgeMemory::EdgeMemory(const Context& ctx, const dnnl::memory::desc& plain,
                       const dnnl::memory::desc& op) {
  plain_ = REPRO_DNNL(dnnl::memory(plain, ctx.engine, DNNL_MEMORY_NONE));
  reorder_needed_ = plain != op;
  if (reorder_needed_) {
    op_ = REPRO_DNNL(dnnl::memory(op, ctx.engine));
    to_op_ = REPRO_DNNL(dnnl::reorder(plain_, op_));
    from_op_ = REPRO_DNNL(dnnl::reorder(op_, plain_));
  } else {
    op_ = plain_;
  }
}

dnnl::memory& EdgeMemory::to_op(const Context& ctx, const float* plain_data) {
  REPRO_DNNL(plain_.set_data_handle(const_cast<float*>(plain_data)));
  if (reorder_needed_)
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
  if (reorder_needed_)
    REPRO_DNNL(from_op_.execute(ctx.stream, {{DNNL_ARG_FROM, op_}, {DNNL_ARG_TO, plain_}}));
}

}  // namespace repro::onednn
