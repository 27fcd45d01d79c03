// What the cuDNN backend's ops share: the cuDNN and cuBLAS handles (one stream: the default one),
// the workspace, and the determinism switch. Private to lib/backend/cuda.
// Ops keep a shared_ptr to it, so an op may outlive the Backend object that made it.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/cuda/cudnn_check.h"

namespace repro::cuda {

struct Context {
  bool deterministic = true;
  CudnnHandle cudnn;
  CublasHandle cublas;
  DeviceBuffer workspace;  // cuDNN scratch, grown when an op is built, never during a step
};

// Largest cuDNN workspace an algorithm may ask for; larger ones are skipped in the choice.
constexpr size_t kMaxWorkspaceBytes = size_t{256} << 20;

std::unique_ptr<Conv2dOp> make_conv2d(std::shared_ptr<Context> context, const ConvGeometry& g);
std::unique_ptr<DenseOp> make_dense(std::shared_ptr<Context> context, const DenseGeometry& g);

}  // namespace repro::cuda
