// The oneDNN backend's op objects, built once per geometry by the backend's make_* methods.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "backend/onednn/onednn_util.h"

namespace repro::onednn {

std::unique_ptr<Conv2dOp> make_conv2d(std::shared_ptr<const Context> ctx, const ConvGeometry& g);
std::unique_ptr<MaxPool2dOp> make_max_pool2d(std::shared_ptr<const Context> ctx,
                                             const PoolGeometry& g);
std::unique_ptr<DenseOp> make_dense(std::shared_ptr<const Context> ctx, const DenseGeometry& g);

// dy *= (y > 0), in place over n elements (the relu gradient at the op's output).
void relu_mask(const float* y, float* dy, size_t n);

}  // namespace repro::onednn
