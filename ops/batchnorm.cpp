// Batch normalisation of [N, C, H, W] (BatchNorm2d) and [N, C] (BatchNorm1d).
#include "kernels/batchnorm.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<BatchNormForwardTrainFn> forward_train_impls("batchnorm", {
    {"reference", DeviceType::CPU, reference::batchnorm_forward_train},
    {"fast", DeviceType::CPU, fast::batchnorm_forward_train},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::batchnorm_forward_train},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::batchnorm_forward_train},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::batchnorm_forward_train},
#endif
});
const ImplTable<BatchNormForwardEvalFn> forward_eval_impls("batchnorm", {
    {"reference", DeviceType::CPU, reference::batchnorm_forward_eval},
    {"fast", DeviceType::CPU, fast::batchnorm_forward_eval},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::batchnorm_forward_eval},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::batchnorm_forward_eval},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::batchnorm_forward_eval},
#endif
});
const ImplTable<BatchNormBackwardTrainFn> backward_train_impls("batchnorm", {
    {"reference", DeviceType::CPU, reference::batchnorm_backward_train},
    {"fast", DeviceType::CPU, fast::batchnorm_backward_train},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::batchnorm_backward_train},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::batchnorm_backward_train},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::batchnorm_backward_train},
#endif
});
const ImplTable<BatchNormBackwardEvalFn> backward_eval_impls("batchnorm", {
    {"reference", DeviceType::CPU, reference::batchnorm_backward_eval},
    {"fast", DeviceType::CPU, fast::batchnorm_backward_eval},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::batchnorm_backward_eval},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::batchnorm_backward_eval},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::batchnorm_backward_eval},
#endif
});

constexpr const char* kOp = "batch_norm";

// A per-channel vector: defined, float32, [C], on x's device.
void check_channel_vector(const Tensor& t, const Tensor& x, int64_t C, const char* what) {
  check_defined(t, kOp, what);
  check_f32(t, kOp);
  check_same_device(t, x, kOp);
  NIB_CHECK(t.numel() == C, kOp, ": ", what, " has ", t.numel(), " values for ", C, " channels of input ",
            x.shape());
}

float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

}  // namespace

// gamma/beta may be undefined (affine=False): they then act as 1 and 0.
// running_mean/var may be undefined in training (no running statistics).
Tensor batch_norm(const Tensor& x, const Tensor& gamma_in, const Tensor& beta_in, const Tensor& running_mean,
                  const Tensor& running_var, bool training, float momentum, float eps) {
  check_defined(x, kOp, "input");
  check_f32(x, kOp);
  NIB_CHECK(x.dim() == 2 || x.dim() == 4, kOp, ": expected [N, C] or [N, C, H, W], got ", x.shape());
  BatchNormShape s;
  s.N = x.size(0);
  s.C = x.size(1);
  s.HW = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  NIB_CHECK(s.C > 0 && s.N * s.HW > 0, kOp, ": empty input ", x.shape());
  NIB_CHECK(eps > 0.0f, kOp, ": eps must be positive, got ", eps);

  Tensor gamma = gamma_in.defined() ? gamma_in : Tensor::ones({s.C}, x.device());
  Tensor beta = beta_in.defined() ? beta_in : Tensor::zeros({s.C}, x.device());
  check_channel_vector(gamma, x, s.C, "weight");
  check_channel_vector(beta, x, s.C, "bias");
  const bool has_running = running_mean.defined() || running_var.defined();
  if (has_running || !training) {
    check_channel_vector(running_mean, x, s.C, "running_mean");
    check_channel_vector(running_var, x, s.C, "running_var");
  }

  Tensor y = Tensor::empty(x.shape(), x.device());
  const bool graph = autograd::needs_graph({&x, &gamma_in, &beta_in});

  if (training) {
    // One value per channel has no variance to normalise by (PyTorch refuses too).
    NIB_CHECK(s.N * s.HW > 1, kOp, ": training needs more than one value per channel, got input ", x.shape());
    Tensor save_mean = Tensor::empty({s.C}, x.device());
    Tensor save_invstd = Tensor::empty({s.C}, x.device());
    forward_train_impls.pick(x.device(), "forward train ", x.shape())(s, x.data(), gamma.data(), beta.data(), eps, momentum,
                                         data_or_null(running_mean), data_or_null(running_var), y.data(),
                                         save_mean.data(), save_invstd.data());
    if (graph) {
      autograd::record(y, "batch_norm", {x, gamma_in, beta_in},
                       [s, x = x.detach(), gamma = gamma.detach(), save_mean, save_invstd](
                           const Tensor& gy, const std::vector<bool>& needs) {
                         Tensor gx = needs[0] ? Tensor::empty(x.shape(), gy.device()) : Tensor();
                         Tensor ggamma = needs[1] ? Tensor::empty({s.C}, gy.device()) : Tensor();
                         Tensor gbeta = needs[2] ? Tensor::empty({s.C}, gy.device()) : Tensor();
                         backward_train_impls.pick(gy.device(), "backward train ", gy.shape())(s, x.data(), gy.data(), gamma.data(),
                                                                save_mean.data(), save_invstd.data(), data_or_null(gx),
                                                                data_or_null(ggamma), data_or_null(gbeta));
                         return std::vector<Tensor>{gx, ggamma, gbeta};
                       });
    }
    return y;
  }

  forward_eval_impls.pick(x.device(), "forward eval ", x.shape())(s, x.data(), gamma.data(), beta.data(), running_mean.data(),
                                      running_var.data(), eps, y.data());
  if (graph) {
    // Copies: a later training step updates the running statistics in place,
    // and this backward must see the values its forward used.
    autograd::record(y, "batch_norm", {x, gamma_in, beta_in},
                     [s, eps, x = x.detach(), gamma = gamma.detach(), mean = running_mean.clone(),
                      var = running_var.clone()](const Tensor& gy, const std::vector<bool>& needs) {
                       Tensor gx = needs[0] ? Tensor::empty(x.shape(), gy.device()) : Tensor();
                       Tensor ggamma = needs[1] ? Tensor::empty({s.C}, gy.device()) : Tensor();
                       Tensor gbeta = needs[2] ? Tensor::empty({s.C}, gy.device()) : Tensor();
                       backward_eval_impls.pick(gy.device(), "backward eval ", gy.shape())(s, x.data(), gy.data(), gamma.data(), mean.data(),
                                                             var.data(), eps, data_or_null(gx), data_or_null(ggamma),
                                                             data_or_null(gbeta));
                       return std::vector<Tensor>{gx, ggamma, gbeta};
                     });
  }
  return y;
}

}  // namespace nib::ops
