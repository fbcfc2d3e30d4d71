// Module: the building block of models, as in PyTorch.
//
// A module owns parameters (trained tensors), buffers (state that is saved but
// not trained, such as BatchNorm's running mean) and child modules, each under
// a name. Names join with dots into the names of a state dict —
// "features.0.weight", "bn1.running_mean" — exactly as torchvision spells
// them, so weights converted from PyTorch load by name.
//
// Registration returns the tensor handle the layer keeps; moving a module to
// another device or loading weights changes the tensor's contents in place,
// so those handles stay valid.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/named_tensors.h"
#include "tensor/tensor.h"

namespace nib {

class Module;
using ModulePtr = std::shared_ptr<Module>;

class Module {
 public:
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x) = 0;
  // Calls forward(), then the output hook if one is set (feature extraction).
  Tensor operator()(const Tensor& x);
  // Modules that take several inputs (Add and Concatenate in a layer graph,
  // models/keras/) override this; the default takes exactly one and calls
  // forward(x). The call operator runs the output hook as above.
  virtual Tensor forward_inputs(const std::vector<Tensor>& inputs);
  Tensor operator()(const std::vector<Tensor>& inputs);

  // "Conv2d(3, 32, kernel=5x5, stride=1)": one line describing this module alone.
  virtual std::string describe() const = 0;

  // ---- Structure ------------------------------------------------------------
  // Parameters and buffers of this module and all below it, with dotted
  // names, in PyTorch's order: this module's own first, then each child's.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;  // parameters and buffers, in PyTorch's order
  std::vector<Tensor> parameters() const;
  // This module ("") and every descendant, depth first, with dotted names.
  std::vector<std::pair<std::string, Module*>> named_modules();
  const std::vector<std::pair<std::string, ModulePtr>>& children() const { return children_; }
  // The descendant called `name` ("features.3"); nullptr if there is none.
  Module* find(const std::string& name);
  int64_t parameter_count() const;

  // ---- Modes ----------------------------------------------------------------
  void train(bool on = true);  // recursive, like PyTorch
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Frozen parameters have requires_grad = false: no gradients, no optimizer state.
  void freeze();
  void unfreeze();

  // Moves every parameter and buffer to `device`, in place.
  void to(Device device);

  // Called with this module's output after each forward (feature extraction).
  using OutputHook = std::function<void(const Tensor&)>;
  void set_output_hook(OutputHook hook) { hook_ = std::move(hook); }

 protected:
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }
  // Called by train() after the children have switched, so a module may adjust
  // its descendants (models/transfer.h keeps frozen BatchNorm in eval mode).
  virtual void on_train(bool) {}

 private:
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
  bool training_ = true;
  OutputHook hook_;
};

// Moves the data of `t` to `device` without changing which TensorImpl it is.
void move_tensor_in_place(const Tensor& t, Device device);

}  // namespace nib
