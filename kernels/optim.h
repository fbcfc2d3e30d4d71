// Optimizer updates, applied to all parameters in one call so that the CUDA
// version can update every tensor in a single launch ("multi-tensor apply").
#pragma once

#include <cstdint>
#include <vector>

namespace nib::kernels {

// One parameter tensor and its state. Unused state pointers are null.
struct ParamSlot {
  float* param = nullptr;
  const float* grad = nullptr;
  float* state1 = nullptr;  // SGD: momentum buffer; Adam: first moment m
  float* state2 = nullptr;  // Adam: second moment v
  int64_t n = 0;
};

// PyTorch's SGD:  g += wd * p;  buf = momentum * buf + (1 - dampening) * g
// (buf = g on the first step);  g = nesterov ? g + momentum * buf : buf;  p -= lr * g
struct SgdParams {
  float lr = 0.01f, momentum = 0.0f, dampening = 0.0f, weight_decay = 0.0f;
  bool nesterov = false;
  bool first_step = true;
};
// Adam (decoupled = false: weight decay added to the gradient) and AdamW
// (decoupled = true: p *= 1 - lr * wd before the Adam step). step counts from 1.
struct AdamParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  bool decoupled = false;
  int64_t step = 1;
};

using SgdStepFn = void(const std::vector<ParamSlot>&, const SgdParams&);
using AdamStepFn = void(const std::vector<ParamSlot>&, const AdamParams&);

#define NIB_DECLARE_OPTIM \
  SgdStepFn sgd_step;     \
  AdamStepFn adam_step;

namespace reference { NIB_DECLARE_OPTIM }
namespace cuda { NIB_DECLARE_OPTIM }
#undef NIB_DECLARE_OPTIM

}  // namespace nib::kernels
