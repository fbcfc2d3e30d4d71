// nib's batch-normalisation CUDA kernels against the CPU reference.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and nib's CUDA kernels on device buffers holding the same data,
// then compares (helpers: tests/cuda/cuda_helpers.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/batchnorm.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_positive;
using nib::testing::random_vector;

// ---- Batch normalisation ---------------------------------------------------------

TEST_CASE("cuda kernel batchnorm (training and evaluation, forward and backward) matches the reference") {
  const float eps = 1e-5f, momentum = 0.1f;
  // The last two are split into several blocks per channel, whose ranges
  // cross from one sample's plane into the next.
  for (BatchNormShape s : {BatchNormShape{1, 1, 2}, BatchNormShape{1, 3, 7}, BatchNormShape{2, 1, 1},
                           BatchNormShape{2, 16, 49}, BatchNormShape{8, 3, 1}, BatchNormShape{64, 33, 1},
                           BatchNormShape{3, 5, 5000}, BatchNormShape{256, 3, 10}}) {
    CAPTURE(s.N);
    CAPTURE(s.C);
    CAPTURE(s.HW);
    // (At least two values per channel: the unbiased running variance divides by N*HW - 1.)
    const size_t n = static_cast<size_t>(s.N * s.C * s.HW), c = static_cast<size_t>(s.C);
    // A mean far from zero checks that the variance does not cancel.
    std::vector<float> x = random_vector(n, 20, 2.0f);
    for (auto& v : x) v += 5.0f;
    std::vector<float> gamma = random_positive(c, 21), beta = random_vector(c, 22), gy = random_vector(n, 23);
    std::vector<float> running_mean = random_vector(c, 24), running_var = random_positive(c, 25);
    DeviceBuffer<float> dx(x), dgamma(gamma), dbeta(beta), dgy(gy);

    // Training forward.
    std::vector<float> y(n), mean(c), invstd(c), rm = running_mean, rv = running_var;
    reference::batchnorm_forward_train(s, x.data(), gamma.data(), beta.data(), eps, momentum, rm.data(), rv.data(),
                                       y.data(), mean.data(), invstd.data());
    DeviceBuffer<float> dy(n), dmean(c), dinvstd(c), drm(running_mean), drv(running_var);
    kernels::cuda::batchnorm_forward_train(s, dx.get(), dgamma.get(), dbeta.get(), eps, momentum, drm.get(), drv.get(),
                                    dy.get(), dmean.get(), dinvstd.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
    NIB_CHECK_CLOSE(dmean.to_host(), mean, 1e-5);
    NIB_CHECK_CLOSE(dinvstd.to_host(), invstd, 1e-4);
    NIB_CHECK_CLOSE(drm.to_host(), rm, 1e-5);
    NIB_CHECK_CLOSE(drv.to_host(), rv, 1e-4);

    // Training backward, from the saved statistics (the reference's, so only the backward is compared).
    std::vector<float> gx(n), ggamma(c), gbeta(c);
    reference::batchnorm_backward_train(s, x.data(), gy.data(), gamma.data(), mean.data(), invstd.data(), gx.data(),
                                        ggamma.data(), gbeta.data());
    DeviceBuffer<float> dsaved_mean(mean), dsaved_invstd(invstd), dgx(n), dggamma(c), dgbeta(c);
    kernels::cuda::batchnorm_backward_train(s, dx.get(), dgy.get(), dgamma.get(), dsaved_mean.get(), dsaved_invstd.get(),
                                     dgx.get(), dggamma.get(), dgbeta.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);
    NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
    NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
    // Only the input gradient (a frozen BN layer still passes gradients through).
    kernels::cuda::fill(static_cast<int64_t>(n), 0.0f, dgx.get());
    kernels::cuda::batchnorm_backward_train(s, dx.get(), dgy.get(), dgamma.get(), dsaved_mean.get(), dsaved_invstd.get(),
                                     dgx.get(), nullptr, nullptr);
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);

    // Evaluation forward and backward.
    DeviceBuffer<float> drm0(running_mean), drv0(running_var);
    reference::batchnorm_forward_eval(s, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(),
                                      eps, y.data());
    kernels::cuda::batchnorm_forward_eval(s, dx.get(), dgamma.get(), dbeta.get(), drm0.get(), drv0.get(), eps, dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);

    reference::batchnorm_backward_eval(s, x.data(), gy.data(), gamma.data(), running_mean.data(), running_var.data(),
                                       eps, gx.data(), ggamma.data(), gbeta.data());
    kernels::cuda::batchnorm_backward_eval(s, dx.get(), dgy.get(), dgamma.get(), drm0.get(), drv0.get(), eps, dgx.get(),
                                    dggamma.get(), dgbeta.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
    NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
    NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
  }
}
