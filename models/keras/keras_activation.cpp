#include "models/keras/keras_activation.h"

#include "ops/ops.h"

namespace nib::models::keras {

std::string Activation::name() const {
  switch (kind) {
    case Kind::Linear: return "linear";
    case Kind::ReLU: return "relu";
    case Kind::ReLU6: return "relu6";
    case Kind::Sigmoid: return "sigmoid";
    case Kind::Tanh: return "tanh";
    case Kind::Softmax: return "softmax";
    case Kind::ELU: return str("elu(", alpha, ")");
    case Kind::LeakyReLU: return str("leaky_relu(", alpha, ")");
  }
  return "?";
}

const char* supported_activations() { return "linear, relu, relu6, sigmoid, tanh, softmax, elu, leaky_relu"; }

Activation parse_activation(const json::Value& value, const std::string& layer) {
  std::string name;
  if (value.is_null()) name = "linear";
  else if (value.is_string()) name = value.as_string();
  else if (value.is_object() && value.find("config") && value.at("config").is_string())
    name = value.at("config").as_string();
  else fail("layer '", layer, "': activation ", json::dump(value), " is not an activation name");
  using Kind = Activation::Kind;
  if (name == "linear" || name == "None") return {Kind::Linear};
  if (name == "relu") return {Kind::ReLU};
  if (name == "relu6") return {Kind::ReLU6};
  if (name == "sigmoid") return {Kind::Sigmoid};
  if (name == "tanh") return {Kind::Tanh};
  if (name == "softmax") return {Kind::Softmax};
  if (name == "elu") return {Kind::ELU, 1.0f};
  if (name == "leaky_relu") return {Kind::LeakyReLU, 0.2f};  // keras.activations.leaky_relu's default slope
  fail("layer '", layer, "': activation '", name, "' is not supported (supported: ", supported_activations(), ")");
}

Tensor apply(const Activation& activation, const Tensor& x) {
  using Kind = Activation::Kind;
  switch (activation.kind) {
    case Kind::Linear: return x;
    case Kind::ReLU: return ops::relu(x);
    case Kind::ReLU6: return ops::relu6(x);
    case Kind::Sigmoid: return ops::sigmoid(x);
    case Kind::Tanh: return ops::tanh(x);
    case Kind::ELU: return ops::elu(x, activation.alpha);
    case Kind::LeakyReLU: return ops::leaky_relu(x, activation.alpha);
    case Kind::Softmax:
      // nib's softmax is over the last dimension: Keras' channels are last in
      // [N, C] but not in [N, C, H, W].
      if (x.dim() == 4) return ops::to_channels_first(ops::softmax(ops::to_channels_last(x)));
      return ops::softmax(x);
  }
  return x;
}

}  // namespace nib::models::keras
