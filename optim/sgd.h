// Stochastic gradient descent with momentum, as torch.optim.SGD.
#pragma once

#include "optim/optimizer.h"

namespace nib::optim {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.0f;
  float dampening = 0.0f;  // scales the new gradient's share of the momentum: (1 - dampening) * g
  float weight_decay = 0.0f;  // L2: g += weight_decay * p
  bool nesterov = false;      // needs momentum > 0 and dampening = 0
};

// For each parameter p with gradient g (kernels/optim.h has the formulas):
//   g += wd p;  buf = momentum buf + (1 - dampening) g  (buf = g at the first step)
//   p -= lr (nesterov ? g + momentum buf : buf)
// The constructor makes group 0 from `params` with options.lr and
// options.weight_decay; add_param_group adds groups with their own.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SgdOptions options);
  const SgdOptions& options() const { return options_; }
  std::string describe() const override;

 protected:
  void update(const ParamGroup& group, const Batch& batch) override;

 private:
  SgdOptions options_;
};

}  // namespace nib::optim
