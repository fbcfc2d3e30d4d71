// cudnn:: batch normalisation through cuDNN (spatial mode: statistics per
// channel over N and HW, which is BatchNorm2d, and BatchNorm1d with HW = 1).
//
// How nib's contract (kernels/batchnorm.h) maps onto cuDNN:
//  - momentum is cuDNN's exponentialAverageFactor:
//      running = (1 - momentum) * running + momentum * batch statistic;
//  - cuDNN updates the running variance with the unbiased batch variance
//    (n/(n-1)), as PyTorch does and as batchnorm.h specifies;
//  - save_mean / save_invstd are cuDNN's resultSaveMean /
//    resultSaveInvVariance, which hold 1/sqrt(var + eps): nib's invstd;
//  - null gamma/beta (no affine) become scratch tensors of ones and zeros;
//    null per-channel outputs the caller does not want become scratch
//    buffers of C floats;
//  - a training backward without the input gradient (a frozen first layer)
//    runs nib's cuda:: kernel, which computes only the two per-channel
//    sums: cuDNN always writes dx, so it would need an N*C*HW scratch
//    buffer and a pass over it for nothing;
//  - the backward of evaluation mode (statistics are constants) has no
//    cuDNN call: it runs nib's cuda:: kernel.
#include "kernels/batchnorm.h"
#include "kernels/cuda/cudnn_util.h"

namespace nib::kernels::cudnn {

namespace {

using cudnn_util::TensorDesc;
using cudnn_util::to_int;

constexpr cudnnBatchNormMode_t kMode = CUDNN_BATCHNORM_SPATIAL;

// x/y described as [N, C, HW, 1]; the per-channel tensors as [1, C, 1, 1].
struct CudnnBatchNorm {
  int C;
  TensorDesc x_desc, channel_desc;
  CudnnBatchNorm(const BatchNormShape& s, const char* op)
      : C(to_int(s.C, op)), x_desc(to_int(s.N, op), C, to_int(s.HW, op), 1), channel_desc(1, C, 1, 1) {}

  // `ptr` itself, or a scratch [C] buffer (held by `scratch`) filled with `fill`.
  const float* or_filled(const float* ptr, nib::cuda::Workspace& scratch, float fill) const {
    if (ptr) return ptr;
    NIB_CUDNN_CHECK(cudnnSetTensor(nib::cuda::cudnn(), channel_desc, scratch.data(), &fill));
    return scratch.as<float>();
  }
  size_t channel_bytes() const { return sizeof(float) * size_t(C); }
};

// cuDNN rejects epsilon below CUDNN_BN_MIN_EPSILON.
bool epsilon_ok(float eps) { return static_cast<double>(eps) >= CUDNN_BN_MIN_EPSILON && eps > 0.0f; }

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             float eps, float momentum, float* running_mean, float* running_var, float* y,
                             float* save_mean, float* save_invstd) {
  if (s.N * s.C * s.HW == 0 || !epsilon_ok(eps))
    return cuda::batchnorm_forward_train(s, x, gamma, beta, eps, momentum, running_mean, running_var, y, save_mean,
                                           save_invstd);
  CudnnBatchNorm bn(s, "cudnn::batchnorm_forward_train");
  nib::cuda::Workspace ones(gamma ? 0 : bn.channel_bytes()), zeros(beta ? 0 : bn.channel_bytes());
  // cuDNN takes the running pair, and the saved pair, both or neither.
  const bool running = running_mean && running_var;
  NIB_CHECK(running || (!running_mean && !running_var),
            "cudnn::batchnorm_forward_train: running_mean and running_var must both be given or both be null");
  nib::cuda::Workspace mean_scratch(save_mean ? 0 : bn.channel_bytes()), invstd_scratch(save_invstd ? 0 : bn.channel_bytes());
  float* mean_out = save_mean ? save_mean : mean_scratch.as<float>();
  float* invstd_out = save_invstd ? save_invstd : invstd_scratch.as<float>();
  NIB_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      nib::cuda::cudnn(), kMode, cudnn_util::one(), cudnn_util::zero(), bn.x_desc, x, bn.x_desc, y, bn.channel_desc,
      bn.or_filled(gamma, ones, 1.0f), bn.or_filled(beta, zeros, 0.0f), static_cast<double>(momentum),
      running ? running_mean : nullptr, running ? running_var : nullptr, static_cast<double>(eps), mean_out,
      invstd_out));
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
  if (s.N * s.C * s.HW == 0 || !epsilon_ok(eps))
    return cuda::batchnorm_forward_eval(s, x, gamma, beta, running_mean, running_var, eps, y);
  CudnnBatchNorm bn(s, "cudnn::batchnorm_forward_eval");
  nib::cuda::Workspace ones(gamma ? 0 : bn.channel_bytes()), zeros(beta ? 0 : bn.channel_bytes());
  NIB_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      nib::cuda::cudnn(), kMode, cudnn_util::one(), cudnn_util::zero(), bn.x_desc, x, bn.x_desc, y, bn.channel_desc,
      bn.or_filled(gamma, ones, 1.0f), bn.or_filled(beta, zeros, 0.0f), running_mean, running_var,
      static_cast<double>(eps)));
}

void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  // cuDNN recomputes the statistics when the saved ones are missing, which
  // needs epsilon, not part of this interface: without them, cuda:: runs.
  // Without gx, too (see the top of the file).
  if (s.N * s.C * s.HW == 0 || !save_mean || !save_invstd || !gx)
    return cuda::batchnorm_backward_train(s, x, gy, gamma, save_mean, save_invstd, gx, ggamma, gbeta);
  CudnnBatchNorm bn(s, "cudnn::batchnorm_backward_train");
  nib::cuda::Workspace ones(gamma ? 0 : bn.channel_bytes());
  nib::cuda::Workspace ggamma_scratch(ggamma ? 0 : bn.channel_bytes()), gbeta_scratch(gbeta ? 0 : bn.channel_bytes());
  // epsilon is unused when savedMean/savedInvVariance are given; any valid value will do.
  const double unused_eps = 1e-5;
  NIB_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      nib::cuda::cudnn(), kMode, cudnn_util::one(), cudnn_util::zero(), cudnn_util::one(), cudnn_util::zero(), bn.x_desc,
      x, bn.x_desc, gy, bn.x_desc, gx, bn.channel_desc, bn.or_filled(gamma, ones, 1.0f),
      ggamma ? ggamma : ggamma_scratch.as<float>(), gbeta ? gbeta : gbeta_scratch.as<float>(), unused_eps, save_mean,
      save_invstd));
}

void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx,
                             float* ggamma, float* gbeta) {
  cuda::batchnorm_backward_eval(s, x, gy, gamma, running_mean, running_var, eps, gx, ggamma, gbeta);
}

}  // namespace nib::kernels::cudnn
