// Reference optimizer updates: PyTorch's formulas (torch.optim.SGD, Adam,
// AdamW, single-tensor path), one element at a time.
//
// Written to give the same float32 bits as torch 1.13 on the CPU, so each line
// follows the tensor op torch runs and rounds where torch rounds:
//   - `x.add(y, alpha=a)` is computed by torch's vector kernels as fma(y, a, x);
//   - `x.addcmul_(y, z, value=s)` is written x + s * y * z, which GCC contracts
//     into fma(s * y, z, x) when it builds torch (checked against torch 1.13);
//   - `x.mul_(s)`, `addcdiv`, sqrt and `/` round after every operation;
//   - hyperparameter arithmetic done in Python (1 - beta1, lr / bias_correction)
//     is double precision, rounded to float once when it reaches the kernel.
#include <cmath>

#include "kernels/optim.h"

namespace nib::kernels::reference {

namespace {
// A Python-side scalar (double) as torch's float kernel receives it.
float as_kernel_scalar(double x) { return static_cast<float>(x); }
}  // namespace

void sgd_step(const std::vector<ParamSlot>& slots, const SgdParams& h) {
  const float keep_grad = as_kernel_scalar(1.0 - static_cast<double>(h.dampening));  // 1 - dampening
  for (const ParamSlot& s : slots) {
    for (int64_t i = 0; i < s.n; ++i) {
      float g = s.grad[i];
      if (h.weight_decay != 0.0f) g = std::fma(s.param[i], h.weight_decay, g);  // g += wd * p
      if (h.momentum != 0.0f) {
        float& buf = s.state1[i];
        // The first step starts the buffer at g, undamped (torch.clone(d_p)).
        buf = h.first_step ? g : std::fma(g, keep_grad, buf * h.momentum);
        g = h.nesterov ? std::fma(buf, h.momentum, g) : buf;
      }
      s.param[i] = std::fma(g, -h.lr, s.param[i]);  // p -= lr * g
    }
  }
}

void adam_step(const std::vector<ParamSlot>& slots, const AdamParams& h) {
  const double step = static_cast<double>(h.step);
  const double bias_correction1 = 1.0 - std::pow(static_cast<double>(h.beta1), step);
  const double bias_correction2 = 1.0 - std::pow(static_cast<double>(h.beta2), step);
  const float neg_step_size = as_kernel_scalar(-(static_cast<double>(h.lr) / bias_correction1));
  const float bias_correction2_sqrt = as_kernel_scalar(std::sqrt(bias_correction2));
  const float one_minus_beta1 = as_kernel_scalar(1.0 - static_cast<double>(h.beta1));
  const float one_minus_beta2 = as_kernel_scalar(1.0 - static_cast<double>(h.beta2));
  // AdamW shrinks the parameter before the update instead of adding wd * p to g.
  const float decay = as_kernel_scalar(1.0 - static_cast<double>(h.lr) * static_cast<double>(h.weight_decay));

  for (const ParamSlot& s : slots) {
    for (int64_t i = 0; i < s.n; ++i) {
      float p = s.param[i];
      float g = s.grad[i];
      if (h.decoupled)
        p = p * decay;
      else if (h.weight_decay != 0.0f)
        g = std::fma(p, h.weight_decay, g);
      float& m = s.state1[i];
      float& v = s.state2[i];
      m = std::fma(g, one_minus_beta1, m * h.beta1);   // m = beta1 m + (1 - beta1) g
      v = std::fma(one_minus_beta2 * g, g, v * h.beta2);  // v = beta2 v + (1 - beta2) g²
      float denom = std::sqrt(v) / bias_correction2_sqrt + h.eps;
      s.param[i] = p + neg_step_size * m / denom;      // p -= lr / bc1 * m / (sqrt(v / bc2) + eps)
    }
  }
}

}  // namespace nib::kernels::reference
