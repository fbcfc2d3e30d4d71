// The recorded graph behind a tensor, drawn as Graphviz DOT: one box per op
// (its name and output shape), one ellipse per leaf that requires a gradient
// (a parameter, named when `leaf_names` knows it), arrows in the direction
// data flowed. `nib graph` prints it for a model; `dot -Tpng` draws it.
//
//   Tensor loss = ops::cross_entropy(model(x), labels);
//   std::cout << autograd::to_dot(loss, names_of(model));
#pragma once

#include <map>
#include <string>

#include "tensor/autograd.h"

namespace nib::autograd {

std::string to_dot(const Tensor& root, const std::map<const TensorImpl*, std::string>& leaf_names = {});

}  // namespace nib::autograd
