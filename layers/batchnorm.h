// BatchNorm2d (and BatchNorm1d on [N, C] input): normalises each channel with
// batch statistics in training and running statistics in evaluation.
// Parameters weight (γ) and bias (β); buffers running_mean, running_var and
// num_batches_tracked (int64), named as in PyTorch so checkpoints match.
#pragma once

#include "layers/module.h"

namespace nib {

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, float eps = 1e-5f, float momentum = 0.1f);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  int64_t channels;
  float eps, momentum;
};

}  // namespace nib
