// Loading and saving a module's weights by name.
//
// A state dict is the module's parameters and buffers under dotted names
// ("features.0.weight", "features.1.running_mean"), as Module::state_dict()
// lists them and as PyTorch names them, so weights converted from PyTorch load
// directly. Loading copies values into the module's existing tensors, in place
// and on whatever device they live, so the handles layers keep stay valid.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/module.h"

namespace nib {

// What a non-strict load skipped (a strict load throws instead).
struct LoadReport {
  std::vector<std::string> missing;     // in the model, not in the tensors given
  std::vector<std::string> unexpected;  // given, but the model has no such tensor
};

// Copies each named tensor into the module's tensor of the same name,
// converting its dtype to the model's (float16/bfloat16/float64 -> float32,
// int32 -> int64 for num_batches_tracked, ...).
//
// A missing BatchNorm "num_batches_tracked" is accepted, as PyTorch accepts
// it (the counter keeps its value). Shape mismatches always throw; missing and unexpected names throw when
// strict (as PyTorch's load_state_dict(strict=True)) and are reported
// otherwise. The error lists EVERY offending tensor, one per line:
//   features.0.weight: shape [32, 1, 5, 5] given, [16, 1, 5, 5] in the model
//   classifier.bias: missing
// Nothing is copied unless everything fits, so a failed load leaves the
// module as it was.
LoadReport load_state_dict(Module& module, const NamedTensors& tensors, bool strict = true);

// The module's state dict as a safetensors file (atomic write).
void save_module(const Module& module, const std::string& path,
                 const std::map<std::string, std::string>& metadata = {});
// Loads a safetensors file into the module (see load_state_dict); errors name
// the file. Returns the file's metadata.
std::map<std::string, std::string> load_module(Module& module, const std::string& path, bool strict = true);

// The entries whose names start with `prefix`, with the prefix removed:
// select_prefix(sd, "features.") turns "features.0.weight" into "0.weight",
// to load part of a checkpoint into a submodule.
NamedTensors select_prefix(const NamedTensors& tensors, const std::string& prefix);

}  // namespace nib
