// Adam and AdamW, as torch.optim.Adam / AdamW.
#pragma once

#include "optim/optimizer.h"

namespace nib::optim {

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  // false: Adam's L2 penalty, g += wd p, which the adaptive scaling then
  // shrinks for parameters with large gradients. true: AdamW's decoupled
  // decay, p *= 1 - lr wd, the same for every parameter (Loshchilov & Hutter).
  bool decoupled = false;
};

// For each parameter, at its t-th update (t from 1):
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g²
//   p -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)
// Group 0 comes from `params` with options.lr and options.weight_decay.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options);
  const AdamOptions& options() const { return options_; }
  std::string describe() const override;

 protected:
  void update(const ParamGroup& group, const Batch& batch) override;

 private:
  AdamOptions options_;
};

// Adam with decoupled weight decay (options.decoupled is forced on). Note that
// torch.optim.AdamW defaults to weight_decay = 0.01; here it is what you pass.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamOptions options) : Adam(std::move(params), decoupled(options)) {}

 private:
  static AdamOptions decoupled(AdamOptions options) {
    options.decoupled = true;
    return options;
  }
};

}  // namespace nib::optim
