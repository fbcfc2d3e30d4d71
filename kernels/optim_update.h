// The per-element SGD and Adam updates, written once and shared by the CPU
// reference (kernels/cpu/optim_reference.cpp) and the CUDA multi-tensor
// kernel (kernels/cuda/optim.cu), so both produce bit-identical parameters.
//
// The formulas are PyTorch's (kernels/optim.h), written to give the same
// float32 bits as torch 1.13 on the CPU, so each line follows the tensor op
// torch runs and rounds where torch rounds:
//   - `x.add(y, alpha=a)` is computed by torch's vector kernels as fma(y, a, x);
//   - `x.addcmul_(y, z, value=s)` is written x + s * y * z, which GCC contracts
//     into fma(s * y, z, x) when it builds torch (checked against torch 1.13);
//   - `x.mul_(s)`, `addcdiv`, sqrt and `/` round after every operation;
//   - hyperparameter arithmetic done in Python (1 - beta1, lr / bias_correction,
//     AdamW's 1 - lr * wd) is double precision, rounded to float once when it
//     reaches the kernel: here in sgd_scalars / adam_scalars, on the host.
//
// Host and device agree bit for bit because nothing is left to the compiler:
// every multiply-add is an explicit fmaf, and no expression has the shape
// a * b + c that nvcc (always) or g++ (with an FMA-capable -march) would fuse
// on its own. sqrtf and `/` are correctly rounded on both sides (nvcc's
// defaults, -prec-sqrt=true -prec-div=true; never build with --use_fast_math).
#pragma once

#include <math.h>

#include <cmath>

#include "kernels/counter_rng.h"  // NIB_HOST_DEVICE
#include "kernels/optim.h"

namespace nib::kernels {

// SGD's constants for one step, computed once on the host.
struct SgdScalars {
  float keep_grad;  // 1 - dampening
};

inline SgdScalars sgd_scalars(const SgdParams& o) {
  return {static_cast<float>(1.0 - static_cast<double>(o.dampening))};
}

// p after one SGD step with gradient g; *buf (the momentum buffer, null
// without momentum) is updated.
NIB_HOST_DEVICE inline float sgd_update(const SgdParams& o, const SgdScalars& k, float p, float g, float* buf) {
  if (o.weight_decay != 0.0f) g = fmaf(p, o.weight_decay, g);  // g += wd * p
  if (o.momentum != 0.0f) {
    // The first step starts the buffer at g, undamped (torch.clone(d_p));
    // then buf = momentum * buf + (1 - dampening) * g.
    const float b = o.first_step ? g : fmaf(g, k.keep_grad, *buf * o.momentum);
    *buf = b;
    g = o.nesterov ? fmaf(b, o.momentum, g) : b;  // nesterov: g + momentum * buf
  }
  return fmaf(g, -o.lr, p);  // p - lr * g
}

// Adam's constants for one step, computed once on the host.
struct AdamScalars {
  float neg_step_size;          // -lr / (1 - beta1^step)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  float one_minus_beta1, one_minus_beta2;
  float decay;  // AdamW: 1 - lr * wd, the factor the weights shrink by
};

inline AdamScalars adam_scalars(const AdamParams& o) {
  const double step = static_cast<double>(o.step);
  const double bias_correction1 = 1.0 - std::pow(static_cast<double>(o.beta1), step);
  const double bias_correction2 = 1.0 - std::pow(static_cast<double>(o.beta2), step);
  return {static_cast<float>(-(static_cast<double>(o.lr) / bias_correction1)),
          static_cast<float>(std::sqrt(bias_correction2)), static_cast<float>(1.0 - static_cast<double>(o.beta1)),
          static_cast<float>(1.0 - static_cast<double>(o.beta2)),
          static_cast<float>(1.0 - static_cast<double>(o.lr) * static_cast<double>(o.weight_decay))};
}

// p after one Adam/AdamW step with gradient g; *m and *v are updated.
NIB_HOST_DEVICE inline float adam_update(const AdamParams& o, const AdamScalars& k, float p, float g, float* m,
                                         float* v) {
  if (o.decoupled)
    p = p * k.decay;  // AdamW: shrink the weights themselves, before the update
  else if (o.weight_decay != 0.0f)
    g = fmaf(p, o.weight_decay, g);  // Adam: g += wd * p
  const float m_new = fmaf(g, k.one_minus_beta1, *m * o.beta1);      // beta1 m + (1 - beta1) g
  const float v_new = fmaf(k.one_minus_beta2 * g, g, *v * o.beta2);  // beta2 v + (1 - beta2) g²
  *m = m_new;
  *v = v_new;
  const float denom = sqrtf(v_new) / k.bias_correction2_sqrt + o.eps;
  return p + k.neg_step_size * m_new / denom;  // p - lr / bc1 * m / (sqrt(v / bc2) + eps); a quotient, never fused
}

}  // namespace nib::kernels
