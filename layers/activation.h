// Activation layers: ReLU, ReLU6, Sigmoid, Tanh, GELU. They hold no parameters.
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

class ActivationLayer : public Module {
 public:
  explicit ActivationLayer(kernels::Activation act) : act_(act) {}
  Tensor forward(const Tensor& x) override { return ops::activation(x, act_); }
  std::string describe() const override {
    switch (act_) {
      case kernels::Activation::ReLU: return "ReLU()";
      case kernels::Activation::ReLU6: return "ReLU6()";
      case kernels::Activation::Sigmoid: return "Sigmoid()";
      case kernels::Activation::Tanh: return "Tanh()";
      default: return "Identity()";
    }
  }
  kernels::Activation kind() const { return act_; }

 private:
  kernels::Activation act_;
};

struct ReLU : ActivationLayer {
  ReLU() : ActivationLayer(kernels::Activation::ReLU) {}
};
struct ReLU6 : ActivationLayer {
  ReLU6() : ActivationLayer(kernels::Activation::ReLU6) {}
};
struct Sigmoid : ActivationLayer {
  Sigmoid() : ActivationLayer(kernels::Activation::Sigmoid) {}
};
struct Tanh : ActivationLayer {
  Tanh() : ActivationLayer(kernels::Activation::Tanh) {}
};
struct Identity : ActivationLayer {
  Identity() : ActivationLayer(kernels::Activation::Identity) {}
  Tensor forward(const Tensor& x) override { return x; }
};

// [gelu-layer]
// GELU is an op of its own (its backward needs the input, see kernels/gelu.h).
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ops::gelu(x); }
  std::string describe() const override { return "GELU()"; }
};
// [/gelu-layer]

}  // namespace nib
