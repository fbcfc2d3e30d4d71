// Tensors with names, in order: a model's state dict (layers/module.h) and the
// contents of a weight file (formats/safetensors.h, formats/torch_checkpoint.h)
// are both this one type, so either can be handed to the other.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace nib {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace nib
