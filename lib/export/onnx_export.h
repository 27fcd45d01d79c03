// A run's model as one ONNX graph (opset 13, IR version 7), built with the ONNX library's own
// protobuf classes and checked by its checker. Input "images": the raw uint8 images (N, H, W) that
// repro reads (N, H, W, C for more than one channel), with the config's preprocessing inside the
// graph (x / 255, then tf.image.resize's bilinear half-pixel rule as ONNX Resize
// linear/half_pixel), or with `preprocessed` the float images (N, H, W, C) after it. Output
// "probabilities" (N, K): the softmax of the logits, as repro predict gives them. Dropout and the
// random augmentations are identities at inference.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/named_tensor.h"

namespace repro {

inline constexpr int kOnnxOpset = 13;

struct OnnxExportOptions {
  bool preprocessed = false;  // the input is float NHWC after scaling and resizing
  std::string graph_name = "repro";
  std::string producer_version;  // repro's version, in the model's metadata
};

// The serialized ModelProto. `weights` are the model's in Keras layout (model.safetensors).
// InputError naming every layer that cannot be exported, or a weight that is missing or of
// another shape; RuntimeError when the ONNX checker refuses the graph.
std::string export_onnx(const RunConfig& config, const std::vector<NamedTensor>& weights,
                        const OnnxExportOptions& options);

}  // namespace repro
