// The oneDNN CPU backend: oneDNN primitives for conv, max pool and dense, and dropout that keeps
// its masks for the backward (also on channel blocks); every other op is HostBackend's reference
// loops on the backend's threads (bit-identical to the reference backend for any thread count).
#include "backend/onednn/onednn_backend.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/onednn/onednn_ops.h"
#include "backend/reference/reference_ops.h"
#include "backend/reference/tuned_host_backend.h"
#include "core/error.h"
#include "rng/dropout_bulk.h"

namespace repro {

namespace {

using onednn::Context;

// Element-wise work is split into fixed blocks; any thread may take any block.
constexpr size_t kBlock = 4096;

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "unknown";
  }
}

class OnednnBackend : public TunedHostBackend {
 public:
  explicit OnednnBackend(const BackendOptions& options)
      : TunedHostBackend(options.threads > 0 ? options.threads : omp_get_num_procs()) {
    auto ctx = std::make_shared<Context>();
    ctx->engine = REPRO_DNNL(dnnl::engine(dnnl::engine::kind::cpu, 0));
    ctx->stream = REPRO_DNNL(dnnl::stream(ctx->engine));
    ctx->threads = options.threads > 0 ? options.threads : omp_get_num_procs();
    ctx->deterministic = options.deterministic;
    ctx->use_threads();
    ctx_ = ctx;
  }

  std::string name() const override { return "onednn"; }
  std::string describe() const override {
    const dnnl_version_t* v = dnnl_version();
    std::string hash = v->hash ? v->hash : "N/A";
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + (hash == "N/A" ? "" : " (" + hash + ")") + ", ISA " +
           isa_name(dnnl::get_effective_cpu_isa()) + ", " + std::to_string(ctx_->threads) +
           " threads, " + (ctx_->deterministic ? "deterministic" : "fast") + " weight gradients";
  }

  // oneDNN's jit convolutions keep 16 channels a block on AVX-512 and 8 below it; handing them
  // that layout saves a reorder on each side of every convolution (for the recipe's 32 channels
  // 8-channel blocks on AVX-512 were slower than plain: another, slower conv kernel). Other
  // channel counts stay plain (a block that does not divide them would need padded buffers).
  int channel_block(int c) const override {
    int b = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core ? 16 : 8;
    return c % b == 0 ? b : 1;
  }

  bool chunk_grads_supported() const override { return true; }
  std::unique_ptr<Conv2dOp> make_conv2d(const ConvGeometry& g) override {
    return onednn::make_conv2d(ctx_, g);
  }
  std::unique_ptr<MaxPool2dOp> make_max_pool2d(const PoolGeometry& g) override {
    return onednn::make_max_pool2d(ctx_, g);
  }
  std::unique_ptr<DenseOp> make_dense(const DenseGeometry& g) override {
    return onednn::make_dense(ctx_, g);
  }

  // The forward keeps its flags (a byte a value, in the tensor's own order) so the backward of
  // the same key is a masked scale instead of a second threefry pass; a key whose flags are gone
  // is drawn again (the same bits either way).
  void dropout_forward(const float* x, float* y, size_t count, StreamKey key, float rate) override {
    ctx_->use_threads();
    uint8_t* keep = masks_.claim(key, count, rate, 1);
    long blocks = long((count + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < blocks; i++) {
      const size_t begin = i * kBlock;
      dropout_range(x, y, begin, std::min(count, begin + kBlock), key, rate, keep + begin);
    }
  }
  void dropout_backward(const float* dy, float* dx, size_t count, StreamKey key,
                        float rate) override {
    if (!apply_mask(dy, dx, count, key, rate, 1))
      dropout_forward(dy, dx, count, key, rate);  // the same mask and scale, applied to dy
  }
  // Channel blocks: a group of `block` channels of one image is drawn in plain order (the bits
  // of dropout_forward), its flags transposed into the blocked order, then applied and kept.
  void image_dropout_forward(const float* x, float* y, int n, int c, int hw, int block,
                             StreamKey key, float rate) override {
    if (block == 1) return dropout_forward(x, y, size_t(n) * c * hw, key, rate);
    REPRO_CHECK(c % block == 0, "image dropout: the channel block must divide the channels");
    ctx_->use_threads();
    const size_t count = size_t(n) * c * hw, group = size_t(block) * hw;
    uint8_t* keep = masks_.claim(key, count, rate, block);
    const long groups = long(n) * (c / block);
#pragma omp parallel
    {
      std::vector<uint8_t> plain(group);  // a group's flags in plain order (channel, position)
#pragma omp for schedule(static)
      for (long g = 0; g < groups; g++) {
        const size_t begin = size_t(g) * group;
        dropout_flags(begin, begin + group, key, rate, plain.data());
        uint8_t* blocked = keep + begin;
        for (int p = 0; p < hw; p++)
          for (int l = 0; l < block; l++)
            blocked[size_t(p) * block + l] = plain[size_t(l) * hw + p];
        dropout_apply(x + begin, y + begin, group, blocked, rate);
      }
    }
  }

  void image_dropout_backward(const float* dy, float* dx, int n, int c, int hw, int block,
                              StreamKey key, float rate) override {
    const size_t count = size_t(n) * c * hw;
    if (!apply_mask(dy, dx, count, key, rate, block))
      image_dropout_forward(dy, dx, n, c, hw, block, key, rate);  // the same mask, drawn again
  }

 private:
  // dx = dy masked and scaled by the stored flags of this key and layout; false when gone.
  bool apply_mask(const float* dy, float* dx, size_t count, StreamKey key, float rate, int block) {
    const uint8_t* keep = masks_.find(key, count, rate, block);
    if (!keep) return false;
    ctx_->use_threads();
    long blocks = long((count + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < blocks; i++) {
      const size_t begin = i * kBlock;
      dropout_apply(dy + begin, dx + begin, std::min(count, begin + kBlock) - begin, keep + begin,
                    rate);
    }
    return true;
  }

  std::shared_ptr<const Context> ctx_;
  DropoutMasks masks_;
};

}  // namespace

namespace onednn {

void relu_mask(const float* y, float* dy, size_t n) {
  long blocks = long((n + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < blocks; b++) {
    size_t end = std::min(n, size_t(b + 1) * kBlock);
    // A select, not a branch: the sign of y is random, so a branch mispredicts half the time
    // (this loop was a quarter of the step), and the select vectorizes.
    for (size_t i = size_t(b) * kBlock; i < end; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}

}  // namespace onednn

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  const std::string hash = v->hash ? v->hash : "N/A";
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + (hash == "N/A" ? "" : " (" + hash + ")");
}

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options) {
  return std::make_unique<OnednnBackend>(options);
}

}  // namespace repro
