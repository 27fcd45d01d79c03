// The backend registry: the one place that knows which backends this build has. The cuDNN
// backend is a module that make_cudnn_backend loads on first use, so asking for reference or
// onednn never maps a CUDA library.
#include "backend/backend.h"

#include "backend/onednn/onednn_backend.h"
#include "backend/portable/portable_backend.h"
#include "backend/reference/reference_backend.h"
#include "core/error.h"
#if REPRO_HAVE_CUDA
#include "backend/cuda_module.h"
#endif

namespace repro {

// Plain index ((i * C + ch) * HW + p) sits at ((i * C / b + ch / b) * HW + p) * b + ch % b.
void plain_to_channel_blocks(const float* x, float* y, int n, int c, int hw, int block) {
  REPRO_CHECK(block > 0 && c % block == 0, "channel block must divide the channel count");
  for (size_t g = 0; g < size_t(n) * c / block; g++)
    for (size_t l = 0; l < size_t(block); l++)
      for (size_t p = 0; p < size_t(hw); p++)
        y[(g * hw + p) * block + l] = x[(g * block + l) * hw + p];
}

void channel_blocks_to_plain(const float* x, float* y, int n, int c, int hw, int block) {
  REPRO_CHECK(block > 0 && c % block == 0, "channel block must divide the channel count");
  for (size_t g = 0; g < size_t(n) * c / block; g++)
    for (size_t l = 0; l < size_t(block); l++)
      for (size_t p = 0; p < size_t(hw); p++)
        y[(g * block + l) * hw + p] = x[(g * hw + p) * block + l];
}

std::string optional_op_name(OptionalOp op) {
  switch (op) {
    case OptionalOp::activation:
      return "element-wise activations (activation layers, and any but relu on conv2d and dense)";
    case OptionalOp::avg_pool2d: return "average_pooling2d";
    case OptionalOp::batch_norm: return "batch_normalization";
    case OptionalOp::affine: return "random image augmentation";
    case OptionalOp::rmsprop: return "the rmsprop optimizer";
    case OptionalOp::weight_decay: return "weight decay (adamw)";
    case OptionalOp::merge: return "layer graphs (inputs: and the merge layers)";
    case OptionalOp::global_max_pool: return "global_max_pooling2d";
    case OptionalOp::zero_padding: return "zero_padding2d";
    case OptionalOp::layer_norm: return "layer_normalization";
    case OptionalOp::depthwise_conv: return "depthwise_conv2d and separable_conv2d";
    case OptionalOp::recurrent: return "recurrent layers (lstm, gru, simple_rnn)";
    case OptionalOp::permute: return "permute";
    case OptionalOp::embedding: return "embedding";
  }
  return "an optional op";
}

#if !REPRO_HAVE_ONEDNN
std::unique_ptr<Backend> make_onednn_backend(const BackendOptions&) {
  throw InputError(
      "backend onednn: this repro was built without oneDNN (-DREPRO_WITH_ONEDNN=OFF, or no "
      "oneDNN for this architecture); determinism: on and off run the portable backend here");
}
std::string onednn_version() { return "none"; }
#endif

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names{"reference", "onednn", "portable", "cudnn",
                                              "portable_cuda"};
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "reference") return make_reference_backend(options);
  if (name == "onednn") return make_onednn_backend(options);
  if (name == "portable") return make_portable_backend(options);
  if (name == "cudnn" || name == "portable_cuda") {
#if REPRO_HAVE_CUDA
    return name == "cudnn" ? make_cudnn_backend(options) : make_portable_cuda_backend(options);
#else
    throw InputError(
        "device cuda: this repro was built without CUDA; rebuild with -DREPRO_WITH_CUDA=ON on a "
        "machine with nvcc and cuDNN, or use device: cpu");
#endif
  }
  throw InputError("unknown backend '" + name +
                   "'; use reference, onednn, portable, cudnn or portable_cuda");
}

}  // namespace repro
