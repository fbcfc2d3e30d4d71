#include "layers/state_dict.h"

#include <algorithm>

#include <set>
#include <unordered_map>

#include "formats/safetensors.h"
#include "tensor/convert.h"

namespace nib {

LoadReport load_state_dict(Module& module, const NamedTensors& tensors, bool strict) {
  NamedTensors targets = module.state_dict();
  std::unordered_map<std::string, const Tensor*> given;
  std::vector<std::string> problems;
  for (const auto& [name, t] : tensors) {
    if (!given.emplace(name, &t).second) problems.push_back(name + ": given twice");
    if (!t.defined()) problems.push_back(name + ": undefined tensor given");
  }

  // Check everything first; copy only when all fits.
  LoadReport report;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (model tensor, value)
  std::set<std::string> known;
  for (const auto& [name, target] : targets) {
    known.insert(name);
    auto it = given.find(name);
    if (it == given.end()) {
      // Like PyTorch's BatchNorm, accept a checkpoint without the step counter
      // (older and converted checkpoints lack it): it only counts training
      // steps, so the model keeps its own.
      if (name == "num_batches_tracked" || name.ends_with(".num_batches_tracked")) continue;
      report.missing.push_back(name);
      if (strict) problems.push_back(name + ": missing");
      continue;
    }
    const Tensor& value = *it->second;
    if (!value.defined()) continue;  // already reported
    if (value.shape() != target.shape()) {
      problems.push_back(str(name, ": shape ", value.shape(), " given, ", target.shape(), " in the model"));
      continue;
    }
    copies.emplace_back(target, value);
  }
  for (const auto& [name, t] : tensors) {
    if (known.count(name)) continue;
    report.unexpected.push_back(name);
    if (strict) problems.push_back(name + ": unexpected (the model has no such tensor)");
  }

  if (!problems.empty()) {
    std::string message = str("load_state_dict: ", problems.size(), problems.size() == 1 ? " tensor does" : " tensors do",
                              " not fit the model: ");
    // One line, as every nib error: the first few problems, then a count.
    const size_t shown = std::min<size_t>(problems.size(), 6);
    for (size_t i = 0; i < shown; ++i) message += (i ? "; " : "") + problems[i];
    if (problems.size() > shown) message += str("; and ", problems.size() - shown, " more");
    fail(message);
  }

  for (const auto& [target, value] : copies) {
    Tensor converted = to_dtype(value, target.dtype());
    if (converted.raw_data() == target.raw_data()) continue;  // a module's own state dict: nothing to do
    copy_bytes(target.raw_data(), target.device(), converted.raw_data(), converted.device(), target.bytes());
  }
  return report;
}

void save_module(const Module& module, const std::string& path, const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, module.state_dict(), metadata);
}

std::map<std::string, std::string> load_module(Module& module, const std::string& path, bool strict) {
  SafeTensorsFile file = load_safetensors(path);
  try {
    load_state_dict(module, file.tensors, strict);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return file.metadata;
}

NamedTensors select_prefix(const NamedTensors& tensors, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
      out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

}  // namespace nib
