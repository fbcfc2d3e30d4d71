// Optimizer: updates parameters from their gradients, as torch.optim does.
//
// Parameters come in groups that share a learning rate and weight decay (a
// fine-tuned backbone with a small lr, a new head with a large one). step()
// updates every parameter that has a gradient; parameters without one (not
// reached by backward, or frozen with requires_grad = false) are left alone
// and get no state. State (momentum, Adam's moments, the step count) is
// allocated at a parameter's first update, on the parameter's device.
//
// The update itself is a kernel (kernels/optim.h) chosen by the registry under
// the family "optim": the CPU reference or, for CUDA tensors, nib's fused kernel.
//
// state_dict() names each state tensor "group<G>.param<P>.<field>", e.g.
// "group0.param3.exp_avg", with P the parameter's index in its group; "step"
// is an I64 scalar. Checkpoints store it next to the model's state dict.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/optim.h"
#include "layers/module.h"
#include "tensor/tensor.h"

namespace nib::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  float lr = 0.01f;
  float weight_decay = 0.0f;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  void add_param_group(ParamGroup group);
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // Drops every gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  // One update of every parameter that requires grad and has a gradient.
  void step();

  void set_lr(float lr);  // every group
  void set_lr(size_t group, float lr);
  float lr(size_t group = 0) const;

  // What kind of optimizer, for logs: "SGD(momentum=0.9)".
  virtual std::string describe() const = 0;

  // The state of every parameter updated so far (see the header comment).
  NamedTensors state_dict() const;
  // Replaces all state with `state`, which must come from an optimizer of the
  // same kind over parameters of the same shapes; checked completely before
  // anything changes. Parameters it does not mention start afresh.
  void load_state_dict(const NamedTensors& state);

 protected:
  // buffer_names: the per-parameter tensors this optimizer keeps, each shaped
  // like its parameter (SGD: {"momentum_buffer"}, Adam: {"exp_avg", "exp_avg_sq"}).
  explicit Optimizer(std::vector<std::string> buffer_names) : buffer_names_(std::move(buffer_names)) {}

  // Parameters of one group that take the same kernel call: same device and
  // the same number of steps taken before this one.
  struct Batch {
    Device device;
    int64_t steps_before = 0;
    std::vector<kernels::ParamSlot> slots;
  };
  // Applies the update to a batch (calls the kernel).
  virtual void update(const ParamGroup& group, const Batch& batch) = 0;

 private:
  struct ParamState {
    std::vector<Tensor> buffers;  // empty until the first update
    int64_t steps = 0;
  };
  ParamState& state_of(size_t group, size_t param) { return state_[group][param]; }
  std::string state_name(size_t group, size_t param, const std::string& field) const;

  std::vector<std::string> buffer_names_;
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<ParamState>> state_;  // [group][param]
};

}  // namespace nib::optim
