// Linear (fully connected): y = x · Wᵀ + b, W [out, in] as in PyTorch.
#pragma once

#include "layers/module.h"

namespace nib {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  Tensor weight, bias;  // bias is undefined without one
  int64_t in_features, out_features;
};

}  // namespace nib
