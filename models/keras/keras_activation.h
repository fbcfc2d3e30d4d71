// Keras' activation functions, by the names a Keras config uses
// ("activation": "relu" in a Dense or Conv2D, or an Activation layer).
#pragma once

#include <string>

#include "tensor/tensor.h"
#include "util/json.h"

namespace nib::models::keras {

struct Activation {
  enum class Kind { Linear, ReLU, ReLU6, Sigmoid, Tanh, Softmax, ELU, LeakyReLU };
  Kind kind = Kind::Linear;
  float alpha = 0.0f;  // ELU's alpha, LeakyReLU's negative slope

  std::string name() const;  // "relu", "leaky_relu(0.3)"
};

// The names accepted, for error messages: "linear, relu, relu6, ...".
const char* supported_activations();

// An activation as a config holds it: a name ("relu"), or Keras 3's
// serialised form {"class_name": "function", "config": "relu", ...}.
// Throws naming `layer` and listing the supported names otherwise.
Activation parse_activation(const json::Value& value, const std::string& layer);

// y = f(x). Softmax is over the channels (dim 1 of [N, C] or [N, C, H, W]),
// Keras' last axis.
Tensor apply(const Activation& activation, const Tensor& x);

}  // namespace nib::models::keras
