// dnnl:: batch normalisation through oneDNN, Intel's library of
// deep-learning primitives for CPUs (Debian's libdnnl-dev). It is here as the
// library baseline that nib's hand-written CPU kernels
// (kernels/cpu/batchnorm_fast.cpp) race in `nib bench cpu`, as cuDNN is on
// the GPU (kernels/cuda/batchnorm_cudnn.cpp). Selected only when asked:
// `--kernels batchnorm=dnnl`, NIB_KERNELS=dnnl.
//
// Layout. nib's [N, C, HW] data is oneDNN's plain nchw with dims
// [N, C, 1, HW], over nib's buffers: no reorder. gamma and beta are oneDNN's
// separate scale and shift (flags use_scale | use_shift).
//
// How nib's contract (kernels/batchnorm.h) maps onto oneDNN:
//  - training forward: oneDNN's forward_training writes the batch mean and
//    the biased variance; nib turns them into save_invstd = 1/sqrt(var + eps)
//    and updates the running statistics itself (oneDNN keeps none), with the
//    unbiased variance n/(n-1), as the reference does;
//  - evaluation forward: forward_inference with use_global_stats, the
//    running statistics as oneDNN's mean and variance;
//  - training backward: oneDNN takes the mean and the variance, and nib's
//    interface passes the mean and invstd without eps. oneDNN gets
//    variance = 1/invstd^2 and eps = 0, which gives back the same invstd (to
//    a float rounding or two);
//  - evaluation backward (statistics are constants): oneDNN's backward with
//    use_global_stats, which treats mean and variance as constants;
//  - null gamma/beta become scratch vectors of ones and zeros, null ggamma /
//    gbeta (gradients not wanted) scratch outputs; a backward without the
//    input gradient (a frozen first layer) runs nib's fast:: kernel, which
//    computes only the two per-channel sums (oneDNN always writes dx);
//  - empty tensors run fast:: (nothing to compute).
//
// Caching as in conv2d_dnnl.cpp: per (shape, eps, mode), primitives made on
// first use (dnnl_util::PlanCache).
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/batchnorm.h"
#include "kernels/cpu/dnnl_util.h"

namespace nib::kernels::dnnl {

namespace {

namespace dn = ::dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

enum Mode : int64_t { kTraining, kEvaluation };

struct BatchNormPlan {
  dn::memory::desc data, channel;
  dn::normalization_flags flags;
  float eps;
  dn::batch_normalization_forward::primitive_desc hint;
  dn::primitive forward, backward;

  BatchNormPlan(const BatchNormShape& s, float epsilon, Mode mode)
      : data({s.N, s.C, 1, s.HW}, dt::f32, tag::nchw),
        channel({s.C}, dt::f32, tag::x),
        flags(dn::normalization_flags::use_scale | dn::normalization_flags::use_shift |
              (mode == kEvaluation ? dn::normalization_flags::use_global_stats : dn::normalization_flags::none)),
        eps(epsilon),
        hint(dn::batch_normalization_forward::desc(
                 mode == kTraining ? dn::prop_kind::forward_training : dn::prop_kind::forward_inference, data, eps,
                 flags),
             dnnl_util::engine()) {}

  const dn::primitive& forward_primitive() {
    if (!forward) forward = dn::batch_normalization_forward(hint);
    return forward;
  }
  const dn::primitive& backward_primitive() {
    if (!backward)
      backward = dn::batch_normalization_backward(dn::batch_normalization_backward::primitive_desc(
          dn::batch_normalization_backward::desc(dn::prop_kind::backward, data, data, eps, flags),
          dnnl_util::engine(), hint));
    return backward;
  }
};

using Cache = dnnl_util::PlanCache<BatchNormPlan, 5>;

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: its primitives belong to the never-destroyed engine
  return *c;
}

// The plan of (s, eps, mode); the caller holds cache().mutex().
BatchNormPlan& plan_for(const BatchNormShape& s, float eps, Mode mode) {
  uint32_t eps_bits = 0;
  std::memcpy(&eps_bits, &eps, sizeof(eps));
  return cache().get({s.N, s.C, s.HW, int64_t(eps_bits), mode},
                     [&] { return std::make_unique<BatchNormPlan>(s, eps, mode); });
}

bool empty(const BatchNormShape& s) { return s.N * s.C * s.HW == 0; }

// `ptr` itself, or `scratch` (C floats) filled with `fill`.
const float* or_filled(const float* ptr, std::vector<float>& scratch, int64_t C, float fill) {
  if (ptr) return ptr;
  scratch.assign(size_t(C), fill);
  return scratch.data();
}
float* or_scratch(float* ptr, std::vector<float>& scratch, int64_t C) {
  if (ptr) return ptr;
  scratch.resize(size_t(C));
  return scratch.data();
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             float eps, float momentum, float* running_mean, float* running_var, float* y,
                             float* save_mean, float* save_invstd) {
  if (empty(s))
    return fast::batchnorm_forward_train(s, x, gamma, beta, eps, momentum, running_mean, running_var, y, save_mean,
                                         save_invstd);
  std::vector<float> ones, zeros, mean_scratch, invstd_scratch, variance(size_t(s.C));
  float* mean = or_scratch(save_mean, mean_scratch, s.C);
  float* invstd = or_scratch(save_invstd, invstd_scratch, s.C);
  dnnl_util::locked(cache(), "dnnl::batchnorm_forward_train", [&] {
    BatchNormPlan& plan = plan_for(s, eps, kTraining);
    dnnl_util::execute(plan.forward_primitive(),
                       {{DNNL_ARG_SRC, dnnl_util::wrap(plan.data, x)},
                        {DNNL_ARG_DST, dnnl_util::wrap(plan.data, y)},
                        {DNNL_ARG_SCALE, dnnl_util::wrap(plan.channel, or_filled(gamma, ones, s.C, 1.0f))},
                        {DNNL_ARG_SHIFT, dnnl_util::wrap(plan.channel, or_filled(beta, zeros, s.C, 0.0f))},
                        {DNNL_ARG_MEAN, dnnl_util::wrap(plan.channel, mean)},
                        {DNNL_ARG_VARIANCE, dnnl_util::wrap(plan.channel, variance.data())}});
  });
  const double count = static_cast<double>(s.N * s.HW);
  for (int64_t c = 0; c < s.C; ++c) {
    const double var = variance[c];
    invstd[c] = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    if (running_mean && running_var) {
      // The running variance estimates the population: unbiased, n / (n - 1).
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * double(mean[c]));
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
  if (empty(s)) return fast::batchnorm_forward_eval(s, x, gamma, beta, running_mean, running_var, eps, y);
  std::vector<float> ones, zeros;
  dnnl_util::locked(cache(), "dnnl::batchnorm_forward_eval", [&] {
    BatchNormPlan& plan = plan_for(s, eps, kEvaluation);
    dnnl_util::execute(plan.forward_primitive(),
                       {{DNNL_ARG_SRC, dnnl_util::wrap(plan.data, x)},
                        {DNNL_ARG_DST, dnnl_util::wrap(plan.data, y)},
                        {DNNL_ARG_SCALE, dnnl_util::wrap(plan.channel, or_filled(gamma, ones, s.C, 1.0f))},
                        {DNNL_ARG_SHIFT, dnnl_util::wrap(plan.channel, or_filled(beta, zeros, s.C, 0.0f))},
                        {DNNL_ARG_MEAN, dnnl_util::wrap(plan.channel, running_mean)},
                        {DNNL_ARG_VARIANCE, dnnl_util::wrap(plan.channel, running_var)}});
  });
}

namespace {
// oneDNN's backward with the given statistics; gx must not be null.
void backward(const BatchNormShape& s, float eps, Mode mode, const float* x, const float* gy, const float* gamma,
              const float* mean, const float* variance, float* gx, float* ggamma, float* gbeta, const char* op) {
  std::vector<float> ones, zeros, ggamma_scratch, gbeta_scratch;
  dnnl_util::locked(cache(), op, [&] {
    BatchNormPlan& plan = plan_for(s, eps, mode);
    dnnl_util::execute(
        plan.backward_primitive(),
        {{DNNL_ARG_SRC, dnnl_util::wrap(plan.data, x)},
         {DNNL_ARG_DIFF_DST, dnnl_util::wrap(plan.data, gy)},
         {DNNL_ARG_DIFF_SRC, dnnl_util::wrap(plan.data, gx)},
         {DNNL_ARG_SCALE, dnnl_util::wrap(plan.channel, or_filled(gamma, ones, s.C, 1.0f))},
         // The shift does not enter the gradients; oneDNN may still look for it.
         {DNNL_ARG_SHIFT, dnnl_util::wrap(plan.channel, or_filled(nullptr, zeros, s.C, 0.0f))},
         {DNNL_ARG_MEAN, dnnl_util::wrap(plan.channel, mean)},
         {DNNL_ARG_VARIANCE, dnnl_util::wrap(plan.channel, variance)},
         {DNNL_ARG_DIFF_SCALE, dnnl_util::wrap(plan.channel, or_scratch(ggamma, ggamma_scratch, s.C))},
         {DNNL_ARG_DIFF_SHIFT, dnnl_util::wrap(plan.channel, or_scratch(gbeta, gbeta_scratch, s.C))}});
  });
}
}  // namespace

void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  if (empty(s) || !gx)
    return fast::batchnorm_backward_train(s, x, gy, gamma, save_mean, save_invstd, gx, ggamma, gbeta);
  // variance = 1/invstd^2 with eps = 0 (see the top of the file).
  std::vector<float> variance(size_t(s.C));
  for (int64_t c = 0; c < s.C; ++c) {
    const double invstd = save_invstd[c];
    variance[c] = static_cast<float>(1.0 / (invstd * invstd));
  }
  backward(s, 0.0f, kTraining, x, gy, gamma, save_mean, variance.data(), gx, ggamma, gbeta,
           "dnnl::batchnorm_backward_train");
}

void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx,
                             float* ggamma, float* gbeta) {
  if (empty(s) || !gx)
    return fast::batchnorm_backward_eval(s, x, gy, gamma, running_mean, running_var, eps, gx, ggamma, gbeta);
  backward(s, eps, kEvaluation, x, gy, gamma, running_mean, running_var, gx, ggamma, gbeta,
           "dnnl::batchnorm_backward_eval");
}

}  // namespace nib::kernels::dnnl
