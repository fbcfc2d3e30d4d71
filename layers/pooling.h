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

// PyTorch's AdaptiveAvgPool2d((out_h, out_w)).
class AdaptiveAvgPool2d : public Module {
 public:
  AdaptiveAvgPool2d(int64_t out_h, int64_t out_w) : out_h(out_h), out_w(out_w) {}
  Tensor forward(const Tensor& x) override { return ops::adaptive_avg_pool2d(x, out_h, out_w); }
  std::string describe() const override { return str("AdaptiveAvgPool2d(", out_h, "x", out_w, ")"); }
  int64_t out_h, out_w;
};

class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ops::global_avg_pool(x); }
  std::string describe() const override { return "GlobalAvgPool()"; }
};

}  // namespace nib
