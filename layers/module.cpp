#include "layers/module.h"

namespace nib {

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  if (hook_) hook_(y);
  return y;
}

Tensor Module::forward_inputs(const std::vector<Tensor>& inputs) {
  NIB_CHECK(inputs.size() == 1, describe(), " takes one input, got ", inputs.size());
  return forward(inputs[0]);
}

Tensor Module::operator()(const std::vector<Tensor>& inputs) {
  Tensor y = forward_inputs(inputs);
  if (hook_) hook_(y);
  return y;
}

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [name, t] : parameters_) out.emplace_back(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [name, child] : children_)
    for (auto& [sub, module] : child->named_modules()) out.emplace_back(sub.empty() ? name : name + "." + sub, module);
  return out;
}

Module* Module::find(const std::string& name) {
  for (auto& [path, module] : named_modules())
    if (path == name) return module;
  return nullptr;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
  on_train(on);  // after the children, so a module can override their modes
}

void Module::freeze() {
  for (auto& [name, t] : named_parameters()) {
    Tensor handle = t;
    handle.set_requires_grad(false);
    handle.set_grad(Tensor());
  }
}

void Module::unfreeze() {
  for (auto& [name, t] : named_parameters()) {
    Tensor handle = t;
    handle.set_requires_grad(true);
  }
}

void Module::to(Device device) {
  // Integer buffers (BatchNorm's num_batches_tracked) are counters the host
  // updates; they stay on the CPU.
  for (auto& [name, t] : state_dict())
    if (t.dtype() == DType::F32) move_tensor_in_place(t, device);
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, value);
  return value;
}

void move_tensor_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;
  Tensor moved = t.to(device);
  t.impl()->storage = moved.storage();
  t.impl()->offset = moved.impl()->offset;
  if (t.grad().defined()) t.set_grad(t.grad().to(device));
}

}  // namespace nib
