// Sequential: children named "0", "1", ... applied in order, as in PyTorch.
#pragma once

#include "layers/module.h"

namespace nib {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> modules) {
    for (auto& m : modules) add(std::move(m));
  }
  // Appends under the next index; returns the module for further set-up.
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    return register_module(std::to_string(children().size()), std::move(module));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (const auto& [name, child] : children()) y = (*child)(y);
    return y;
  }
  std::string describe() const override { return "Sequential(" + std::to_string(children().size()) + " modules)"; }
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const { return *children().at(i).second; }
};

}  // namespace nib
