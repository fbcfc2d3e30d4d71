// Batch normalisation over the channels of [N, C, HW] data (BatchNorm2d with
// HW = H*W; BatchNorm1d with HW = 1).
//
// Training:   mean_c, var_c over (N, HW) (biased var);
//             y = (x - mean_c) * invstd_c * gamma_c + beta_c, invstd = 1/sqrt(var + eps);
//             running = (1 - momentum) * running + momentum * stat, with the
//             unbiased variance (n/(n-1)) in running_var, as PyTorch does.
// Evaluation: the running statistics replace the batch statistics.
#pragma once

#include <cstdint>

namespace nib::kernels {

struct BatchNormShape {
  int64_t N = 1, C = 1, HW = 1;
};

// running_mean/var are updated in place unless null. save_mean and save_invstd
// [C] receive the batch statistics for the backward pass.
using BatchNormForwardTrainFn = void(const BatchNormShape&, const float* x, const float* gamma, const float* beta,
                                     float eps, float momentum, float* running_mean, float* running_var, float* y,
                                     float* save_mean, float* save_invstd);
using BatchNormForwardEvalFn = void(const BatchNormShape&, const float* x, const float* gamma, const float* beta,
                                    const float* running_mean, const float* running_var, float eps, float* y);
// Backward of the training-mode forward. gx, ggamma, gbeta are overwritten;
// any of them may be null to skip it.
using BatchNormBackwardTrainFn = void(const BatchNormShape&, const float* x, const float* gy, const float* gamma,
                                      const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                                      float* gbeta);
// Backward of the evaluation-mode forward (statistics are constants).
using BatchNormBackwardEvalFn = void(const BatchNormShape&, const float* x, const float* gy, const float* gamma,
                                     const float* running_mean, const float* running_var, float eps, float* gx,
                                     float* ggamma, float* gbeta);

#define NIB_DECLARE_BATCHNORM                        \
  BatchNormForwardTrainFn batchnorm_forward_train;   \
  BatchNormForwardEvalFn batchnorm_forward_eval;     \
  BatchNormBackwardTrainFn batchnorm_backward_train; \
  BatchNormBackwardEvalFn batchnorm_backward_eval;

namespace reference { NIB_DECLARE_BATCHNORM }
namespace fast { NIB_DECLARE_BATCHNORM }
namespace cuda { NIB_DECLARE_BATCHNORM }
namespace cudnn { NIB_DECLARE_BATCHNORM }  // cuDNN
namespace dnnl { NIB_DECLARE_BATCHNORM }   // oneDNN on the CPU (built when nib finds libdnnl)
#undef NIB_DECLARE_BATCHNORM

}  // namespace nib::kernels
