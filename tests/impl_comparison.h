// Running a pooling or batch-norm op with its kernel family forced to one
// implementation, forward and backward through autograd, and comparing two
// implementations: what test_pool.cpp (fast), test_batchnorm.cpp (fast) and
// test_dnnl.cpp (dnnl) each check against the reference.
#pragma once

#include <utility>

#include "kernels/registry.h"
#include "tests/helpers.h"

namespace nib::testing {

// ---- Pooling ------------------------------------------------------------------

struct PoolCase {
  const char* what;
  Shape x;
  ops::Pool2dOptions options;
};

inline ops::Pool2dOptions pool_options(int64_t kh, int64_t kw, int64_t sh, int64_t sw, ops::Padding2d padding = {}) {
  ops::Pool2dOptions o;
  o.kernel_h = kh, o.kernel_w = kw, o.stride_h = sh, o.stride_w = sw, o.padding = padding;
  return o;
}

// Forward output and input gradient of `op` with the pool family forced to `impl`.
template <class Op>
std::pair<Tensor, Tensor> pool_with(const char* impl, const Tensor& x_in, const Op& op) {
  kernels::Use use("pool", impl);
  Tensor x = x_in.clone().set_requires_grad(true);
  Tensor y = op(x);
  y.backward(random_tensor(y.shape(), 99));
  CHECK(kernels::last_chosen("pool", DeviceType::CPU) == impl);
  return {y.detach(), x.grad()};
}

template <class Op>
void check_pool_matches_reference(const char* impl, const Tensor& x, const Op& op) {
  auto [y_ref, gx_ref] = pool_with("reference", x, op);
  auto [y, gx] = pool_with(impl, x, op);
  NIB_CHECK_CLOSE(y, y_ref, 1e-6);
  NIB_CHECK_CLOSE(gx, gx_ref, 1e-6);
}

// ---- Batch norm ---------------------------------------------------------------

inline constexpr float kBatchNormMomentum = 0.1f, kBatchNormEps = 1e-5f;

struct BatchNormRun {
  Tensor y, gx, ggamma, gbeta, running_mean, running_var;
};

// One forward + backward with the batchnorm family forced to `impl`.
inline BatchNormRun batch_norm_with(const char* impl, const Tensor& x_in, bool training) {
  kernels::Use use("batchnorm", impl);
  const int64_t C = x_in.size(1);
  Tensor x = x_in.clone().set_requires_grad(true);
  Tensor gamma = random_tensor({C}, 11, 0.5f).set_requires_grad(true);
  Tensor beta = random_tensor({C}, 12).set_requires_grad(true);
  Tensor running_mean = random_tensor({C}, 13, 0.1f);
  Tensor running_var = ops::affine(random_tensor({C}, 14, 0.1f), 1.0f, 1.0f);
  Tensor y = ops::batch_norm(x, gamma, beta, running_mean, running_var, training, kBatchNormMomentum, kBatchNormEps);
  y.backward(random_tensor(y.shape(), 15));
  CHECK(kernels::last_chosen("batchnorm", DeviceType::CPU) == impl);
  return {y.detach(), x.grad(), gamma.grad(), beta.grad(), running_mean, running_var};
}

// `impl` against the reference in both modes on each shape ([N, C, ...]).
inline void check_batch_norm_matches_reference(const char* impl, const std::vector<Shape>& shapes) {
  for (bool training : {true, false}) {
    for (const Shape& s : shapes) {
      CAPTURE(training);
      CAPTURE(s.str());
      Tensor x = ops::affine(random_tensor(s, 1, 2.0f), 1.0f, 3.0f);  // off-centre, so the mean matters
      BatchNormRun ref = batch_norm_with("reference", x, training);
      BatchNormRun run = batch_norm_with(impl, x, training);
      NIB_CHECK_CLOSE(run.y, ref.y, 1e-5);
      NIB_CHECK_CLOSE(run.gx, ref.gx, 1e-4);
      NIB_CHECK_CLOSE(run.ggamma, ref.ggamma, 1e-4);
      NIB_CHECK_CLOSE(run.gbeta, ref.gbeta, 1e-4);
      NIB_CHECK_CLOSE(run.running_mean, ref.running_mean, 1e-6);
      NIB_CHECK_CLOSE(run.running_var, ref.running_var, 1e-6);
    }
  }
}

}  // namespace nib::testing
