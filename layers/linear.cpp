#include "layers/linear.h"

#include <cmath>

#include "ops/ops.h"
#include "tensor/init.h"

namespace nib {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  weight = register_parameter("weight", Tensor::empty({out, in}));
  init::kaiming_uniform_(weight, std::sqrt(5.0f));  // PyTorch's default
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out}));
    float bound = 1.0f / std::sqrt(static_cast<float>(in));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 2, "Linear(", in_features, ", ", out_features, "): expected input [N, ", in_features,
            "], got ", x.shape());
  return ops::linear(x, weight, bias);
}

std::string Linear::describe() const {
  return str("Linear(", in_features, ", ", out_features, bias.defined() ? "" : ", bias=false", ")");
}

}  // namespace nib
