// The per-element SGD and Adam updates, written once and shared by the CPU
// reference (kernels/cpu/optim_reference.cpp) and the CUDA multi-tensor
// kernel (kernels/cuda/optim.cu), so both produce bit-identical parameters:
// the same operations in the same order, and every multiply-add an explicit
// fmaf. (Left to themselves, host and device compilers fuse a*b + c into an
// FMA in different places, and the results drift apart by an ulp per step.)
// The formulas are PyTorch's; see kernels/optim.h.
#pragma once

#include <math.h>

#include <cmath>

#include "kernels/counter_rng.h"  // NIB_HOST_DEVICE
#include "kernels/optim.h"

namespace nib::kernels {

// p after one SGD step with gradient g; *buf (the momentum buffer, null
// without momentum) is updated.
NIB_HOST_DEVICE inline float sgd_update(const SgdParams& o, float p, float g, float* buf) {
  if (o.weight_decay != 0.0f) g = fmaf(o.weight_decay, p, g);  // g += wd * p
  if (o.momentum != 0.0f) {
    // buf = g on the first step, else momentum * buf + (1 - dampening) * g
    float b = o.first_step ? g : fmaf(o.momentum, *buf, (1.0f - o.dampening) * g);
    *buf = b;
    g = o.nesterov ? fmaf(o.momentum, b, g) : b;  // nesterov: g + momentum * buf
  }
  return fmaf(-o.lr, g, p);  // p - lr * g
}

// The step-dependent constants of Adam, computed once per step on the host.
struct AdamScalars {
  float step_size;              // lr / (1 - beta1^step)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^step)
};

inline AdamScalars adam_scalars(const AdamParams& o) {
  double step = static_cast<double>(o.step);
  double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), step);
  double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), step);
  return {static_cast<float>(o.lr / bc1), static_cast<float>(std::sqrt(bc2))};
}

// p after one Adam/AdamW step with gradient g; *m and *v are updated.
NIB_HOST_DEVICE inline float adam_update(const AdamParams& o, const AdamScalars& k, float p, float g, float* m,
                                         float* v) {
  if (o.weight_decay != 0.0f) {
    if (o.decoupled)
      p = p * (1.0f - o.lr * o.weight_decay);  // AdamW: decay the weights themselves
    else
      g = fmaf(o.weight_decay, p, g);  // Adam: g += wd * p
  }
  float m_new = fmaf(1.0f - o.beta1, g - *m, *m);       // m + (1 - beta1)(g - m), PyTorch's lerp
  float v_new = fmaf(1.0f - o.beta2, g * g, o.beta2 * *v);  // beta2 * v + (1 - beta2) g²
  *m = m_new;
  *v = v_new;
  float denom = sqrtf(v_new) / k.bias_correction2_sqrt + o.eps;
  return fmaf(-k.step_size, m_new / denom, p);  // p - step_size * m / denom
}

}  // namespace nib::kernels
