// Pooling layers: MaxPool2d, AvgPool2d and global average pooling
// (PyTorch's AdaptiveAvgPool2d(1), keeping the [N, C, 1, 1] shape).
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override { return ops::max_pool2d(x, options); }
  std::string describe() const override;
  ops::Pool2dOptions options;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, bool count_include_pad = true);
  Tensor forward(const Tensor& x) override { return ops::avg_pool2d(x, options, count_include_pad); }
  std::string describe() const override;
  ops::Pool2dOptions options;
  bool count_include_pad;
};

class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ops::global_avg_pool(x); }
  std::string describe() const override { return "GlobalAvgPool()"; }
};

}  // namespace nib
