// Shared plumbing of the oneDNN backend: the engine/stream context, a checked-call wrapper that
// turns dnnl::error into RuntimeError with the call and file:line, and layout helpers.
// Vendor types stay inside lib/backend/onednn/.
#pragma once

#include <omp.h>
#include <dnnl.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace repro::onednn {

[[noreturn]] void throw_dnnl_error(const dnnl::error& e, const char* call, const char* file,
                                   int line);

// Runs f() and converts a dnnl::error into RuntimeError naming the call and place.
template <class F>
auto checked(F&& f, const char* call, const char* file, int line) -> decltype(f()) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw_dnnl_error(e, call, file, line);
  }
}

}  // namespace repro::onednn

// Evaluates a oneDNN expression; its dnnl::error becomes RuntimeError("oneDNN call ... failed").
#define REPRO_DNNL(expr) ::repro::onednn::checked([&]() { return expr; }, #expr, __FILE__, __LINE__)

namespace repro::onednn {

using tag = dnnl::memory::format_tag;

// What every op of one backend shares: the engine, a stream, and the threading settings.
struct Context {
  dnnl::engine engine;
  dnnl::stream stream;
  int threads = 1;            // OpenMP threads for this backend's ops
  bool deterministic = true;  // bit-identical across thread counts (fixed micro-batches)
  // Sets this backend's thread count on the calling thread (OpenMP settings are per thread).
  void use_threads() const;
};

// A plain f32 descriptor: dims with the given plain tag (nchw, oihw, nc, oi, x).
dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims, tag t);
// The activation tag of a channel block: nchw for 1, nChw8c for 8, nChw16c for 16.
tag image_tag(int block);
// The same descriptor with its outermost (batch) dimension set to n; layouts with the batch
// outermost keep every other stride, so a slice of the full tensor is a valid tensor.
dnnl::memory::desc with_batch(const dnnl::memory::desc& md, int n);

// A copy between two layouts of one small tensor (weights), done on the calling thread: oneDNN's
// reorder primitive costs tens of microseconds a call for a few hundred floats. Each layout's
// offset is a sum of one term per dimension (its outer index times the stride plus its digits in
// the inner blocks), so the terms are tabulated once and the copy only adds them up. Padding in
// the destination is written as zeros.
class HostReorder {
 public:
  HostReorder() = default;
  HostReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
  void run(const float* from, float* to) const;

 private:
  static constexpr int kDims = 6;
  std::array<int, kDims> dims_{};                             // logical dims, padded with 1s
  std::array<std::vector<size_t>, kDims> from_off_, to_off_;  // per dim: offset of each index
  size_t to_size_ = 0;                                        // floats of `to`, padding included
  bool to_padded_ = false;
};

// A memory in `desc` either wrapping the user's plain pointer directly (same layout) or owning a
// buffer in the op's layout with a reorder between them. Built once per geometry.
class EdgeMemory {
 public:
  EdgeMemory() = default;
  EdgeMemory(const Context& ctx, const dnnl::memory::desc& plain, const dnnl::memory::desc& op);
  // The op-side memory, after copying `plain_data` in (reorder or just point at it).
  dnnl::memory& to_op(const Context& ctx, const float* plain_data);
  // The op-side memory as the last to_op() left it (the plain pointer is re-bound, no copy):
  // for a backward pass that reuses its forward's converted input.
  dnnl::memory& cached(const float* plain_data);
  // The op-side memory to be written; call from_op() afterwards to land it in plain_data.
  dnnl::memory& op_memory(float* plain_data);
  void from_op(const Context& ctx, float* plain_data);

 private:
  dnnl::memory plain_;
  dnnl::memory op_;
  dnnl::reorder to_op_, from_op_;
  HostReorder host_to_op_, host_from_op_;  // small tensors: reordered on the calling thread
  bool reorder_needed_ = false, host_reorder_ = false;
};

// Runs `make` with OpenMP limited to one thread, so the primitive it creates is single-threaded.
template <class F>
auto single_threaded(F make) {
  int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  try {
    auto result = make();
    omp_set_num_threads(saved);
    return result;
  } catch (...) {
    omp_set_num_threads(saved);
    throw;
  }
}

}  // namespace repro::onednn
