// Layers that only rearrange data: Flatten and ZeroPad2d.
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

// [N, C, H, W] -> [N, C*H*W]
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x.flatten(1); }
  std::string describe() const override { return "Flatten()"; }
};

// Zero padding of the last two dimensions, per side (left, right, top, bottom
// in PyTorch's argument order is avoided: the fields are named).
class ZeroPad2d : public Module {
 public:
  explicit ZeroPad2d(ops::Padding2d padding) : padding(padding) {}
  explicit ZeroPad2d(int64_t p) : padding(ops::Padding2d::same(p)) {}
  Tensor forward(const Tensor& x) override { return ops::pad2d(x, padding); }
  std::string describe() const override {
    return str("ZeroPad2d(top=", padding.top, ", bottom=", padding.bottom, ", left=", padding.left,
               ", right=", padding.right, ")");
  }

  ops::Padding2d padding;
};

}  // namespace nib
