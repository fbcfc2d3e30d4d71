#include "layers/batchnorm.h"

#include "ops/ops.h"

namespace nib {

BatchNorm2d::BatchNorm2d(int64_t c, float eps, float momentum) : channels(c), eps(eps), momentum(momentum) {
  weight = register_parameter("weight", Tensor::ones({c}));
  bias = register_parameter("bias", Tensor::zeros({c}));
  running_mean = register_buffer("running_mean", Tensor::zeros({c}));
  running_var = register_buffer("running_var", Tensor::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, kCPU, DType::I64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  NIB_CHECK((x.dim() == 4 || x.dim() == 2) && x.size(1) == channels, describe(), ": expected input [N, ", channels,
            ", H, W] or [N, ", channels, "], got ", x.shape());
  if (is_training() && num_batches_tracked.device().is_cpu()) ++*num_batches_tracked.data_as<int64_t>();
  return ops::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

std::string BatchNorm2d::describe() const { return str("BatchNorm2d(", channels, ", eps=", eps, ")"); }

}  // namespace nib
