#include "optim/optimizer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace nib::optim {

void Optimizer::add_param_group(ParamGroup group) {
  NIB_CHECK(group.lr >= 0.0f, "optimizer: learning rate must be >= 0, got ", group.lr);
  NIB_CHECK(group.weight_decay >= 0.0f, "optimizer: weight decay must be >= 0, got ", group.weight_decay);
  std::set<const TensorImpl*> seen;
  for (const auto& g : groups_)
    for (const Tensor& p : g.params) seen.insert(p.impl());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    NIB_CHECK(p.defined(), "optimizer: parameter ", i, " of group ", groups_.size(), " is undefined");
    NIB_CHECK(p.dtype() == DType::F32, "optimizer: parameters must be float32, parameter ", i, " of group ",
              groups_.size(), " is ", dtype_name(p.dtype()));
    // As in PyTorch: a tensor in two groups would be updated twice per step.
    NIB_CHECK(seen.insert(p.impl()).second, "optimizer: parameter ", i, " of group ", groups_.size(),
              " appears more than once among the parameter groups");
  }
  state_.emplace_back(group.params.size());
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad() {
  for (const auto& group : groups_)
    for (const Tensor& p : group.params) p.set_grad(Tensor());
}

void Optimizer::step() {
  for (size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& group = groups_[g];
    std::vector<Batch> batches;
    std::vector<ParamState*> stepped;
    for (size_t i = 0; i < group.params.size(); ++i) {
      const Tensor& p = group.params[i];
      Tensor grad = p.grad();
      if (!p.requires_grad() || !grad.defined()) continue;
      NIB_CHECK(grad.shape() == p.shape() && grad.dtype() == DType::F32 && grad.device() == p.device(),
                "optimizer: the gradient of parameter ", i, " of group ", g, " (", grad.shape(), " ",
                dtype_name(grad.dtype()), " on ", grad.device().name(), ") does not match the parameter (",
                p.shape(), " on ", p.device().name(), ")");

      ParamState& state = state_of(g, i);
      if (state.buffers.empty())
        for (size_t k = 0; k < buffer_names_.size(); ++k) state.buffers.push_back(Tensor::zeros(p.shape(), p.device()));
      // State follows its parameter when a model moves to another device.
      for (Tensor& buffer : state.buffers)
        if (buffer.device() != p.device()) buffer = buffer.to(p.device());

      kernels::ParamSlot slot;
      slot.param = p.data();
      slot.grad = grad.data();
      slot.state1 = state.buffers.size() > 0 ? state.buffers[0].data() : nullptr;
      slot.state2 = state.buffers.size() > 1 ? state.buffers[1].data() : nullptr;
      slot.n = p.numel();

      auto same_call = [&](const Batch& b) { return b.device == p.device() && b.steps_before == state.steps; };
      auto it = std::find_if(batches.begin(), batches.end(), same_call);
      if (it == batches.end()) it = batches.insert(batches.end(), Batch{p.device(), state.steps, {}});
      it->slots.push_back(slot);
      stepped.push_back(&state);
    }
    for (const Batch& batch : batches) update(group, batch);
    for (ParamState* state : stepped) state->steps += 1;
  }
}

void Optimizer::set_lr(float lr) {
  for (size_t g = 0; g < groups_.size(); ++g) set_lr(g, lr);
}

void Optimizer::set_lr(size_t group, float lr) {
  NIB_CHECK(group < groups_.size(), "optimizer: no parameter group ", group, " (there are ", groups_.size(), ")");
  NIB_CHECK(lr >= 0.0f, "optimizer: learning rate must be >= 0, got ", lr);
  groups_[group].lr = lr;
}

float Optimizer::lr(size_t group) const {
  NIB_CHECK(group < groups_.size(), "optimizer: no parameter group ", group, " (there are ", groups_.size(), ")");
  return groups_[group].lr;
}

// ---- State dict --------------------------------------------------------------

std::string Optimizer::state_name(size_t group, size_t param, const std::string& field) const {
  return str("group", group, ".param", param, ".", field);
}

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const ParamState& state = state_[g][i];
      if (state.steps == 0) continue;  // never updated: nothing to save
      for (size_t k = 0; k < buffer_names_.size(); ++k)
        out.emplace_back(state_name(g, i, buffer_names_[k]), state.buffers[k]);
      Tensor step = Tensor::empty(Shape{}, kCPU, DType::I64);
      *step.data_as<int64_t>() = state.steps;
      out.emplace_back(state_name(g, i, "step"), step);
    }
  }
  return out;
}

namespace {

// "group2.param13.exp_avg" -> {2, 13, "exp_avg"}; false when it is not of that form.
bool parse_state_name(const std::string& name, size_t& group, size_t& param, std::string& field) {
  auto number_after = [&](size_t& pos, const char* prefix, size_t& value) {
    std::string p = prefix;
    if (name.compare(pos, p.size(), p) != 0) return false;
    pos += p.size();
    size_t start = pos;
    while (pos < name.size() && std::isdigit(static_cast<unsigned char>(name[pos]))) ++pos;
    if (pos == start || pos - start > 9) return false;
    value = std::stoul(name.substr(start, pos - start));
    return true;
  };
  size_t pos = 0;
  if (!number_after(pos, "group", group) || !number_after(pos, ".param", param)) return false;
  if (pos >= name.size() || name[pos] != '.' || pos + 1 == name.size()) return false;
  field = name.substr(pos + 1);
  return true;
}

int64_t read_step(const std::string& name, const Tensor& t) {
  NIB_CHECK(t.numel() == 1, "optimizer state '", name, "': a step count must be a scalar, got shape ", t.shape());
  Tensor host = t.cpu();
  double value = 0;
  if (t.dtype() == DType::I64)
    value = static_cast<double>(*host.data_as<int64_t>());
  else if (t.dtype() == DType::F32)  // PyTorch keeps Adam's step as a float tensor
    value = host.item();
  else
    fail("optimizer state '", name, "': a step count must be I64 or F32, got ", dtype_name(t.dtype()));
  NIB_CHECK(value >= 0 && value == std::floor(value), "optimizer state '", name,
            "': the step count must be a whole number >= 0, got ", value);
  return static_cast<int64_t>(value);
}

}  // namespace

void Optimizer::load_state_dict(const NamedTensors& state) {
  // Checked completely into `loaded` first, so a bad dict changes nothing.
  std::vector<std::vector<ParamState>> loaded(groups_.size());
  std::vector<std::vector<std::set<std::string>>> fields(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    loaded[g].resize(groups_[g].params.size());
    fields[g].resize(groups_[g].params.size());
  }
  std::string expected;
  for (const std::string& b : buffer_names_) expected += b + ", ";
  expected += "step";

  for (const auto& [name, t] : state) {
    size_t g = 0, i = 0;
    std::string field;
    NIB_CHECK(parse_state_name(name, g, i, field), "optimizer state: unexpected entry '", name,
              "' (expected names like group0.param3.", buffer_names_.empty() ? "step" : buffer_names_[0], ")");
    NIB_CHECK(g < groups_.size(), "optimizer state '", name, "': this optimizer has only ", groups_.size(),
              " parameter group(s)");
    NIB_CHECK(i < groups_[g].params.size(), "optimizer state '", name, "': group ", g, " has only ",
              groups_[g].params.size(), " parameter(s)");
    NIB_CHECK(t.defined(), "optimizer state '", name, "' is an undefined tensor");
    NIB_CHECK(fields[g][i].insert(field).second, "optimizer state: '", name, "' appears twice");
    const Tensor& p = groups_[g].params[i];
    ParamState& target = loaded[g][i];
    if (field == "step") {
      target.steps = read_step(name, t);
      continue;
    }
    auto k = std::find(buffer_names_.begin(), buffer_names_.end(), field);
    NIB_CHECK(k != buffer_names_.end(), "optimizer state '", name, "': ", describe(), " keeps no '", field,
              "' (it keeps ", expected, ")");
    NIB_CHECK(t.dtype() == DType::F32, "optimizer state '", name, "' must be F32, got ", dtype_name(t.dtype()));
    NIB_CHECK(t.shape() == p.shape(), "optimizer state '", name, "' has shape ", t.shape(), " but the parameter has ",
              p.shape());
    target.buffers.resize(buffer_names_.size());
    target.buffers[k - buffer_names_.begin()] = t.device() == p.device() ? t.clone() : t.to(p.device());
  }

  // A parameter's state is all of its fields or none of them.
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      if (fields[g][i].empty()) continue;
      NIB_CHECK(fields[g][i].count("step"), "optimizer state: ", state_name(g, i, "step"), " is missing");
      for (const std::string& b : buffer_names_)
        NIB_CHECK(fields[g][i].count(b), "optimizer state: ", state_name(g, i, b), " is missing");
    }
  }
  state_ = std::move(loaded);
}

}  // namespace nib::optim
