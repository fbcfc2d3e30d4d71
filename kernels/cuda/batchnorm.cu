// Batch normalisation on CUDA over [N, C, HW]. The spec is
// kernels/cpu/batchnorm_reference.cpp (formulas in kernels/batchnorm.h).
//
// Each pass is split in two launches:
//   1. per-channel statistics: one block per channel reduces its N*HW values
//      (strided in memory: HW contiguous values per sample) with warp
//      shuffles, in double;
//   2. the element-wise part (normalise, or the input gradient) over all
//      N*C*HW values with every thread of the GPU, reading the per-channel
//      numbers from step 1.
// Better than a naive thread-per-channel version, which leaves the GPU idle
// with 64 channels and walks each channel serially. The training statistics
// are computed in two passes over the channel (the mean, then the squared
// deviations from it) rather than from sum and sum of squares, so the
// variance does not suffer cancellation when the mean is large.
// Speed: to be measured in bench/.
#include <cmath>

#include "kernels/batchnorm.h"
#include "kernels/cuda/launch.cuh"

namespace nib::kernels::custom {

using namespace cuda_detail;

namespace {

constexpr unsigned kChannelThreads = 512;

// The j-th of the N*HW values of channel c.
__device__ inline int64_t channel_index(const BatchNormShape& s, int64_t c, int64_t j) {
  int64_t n = j / s.HW, k = j % s.HW;
  return (n * s.C + c) * s.HW + k;
}

__global__ void train_statistics_kernel(BatchNormShape s, const float* x, float eps, float momentum,
                                        float* running_mean, float* running_var, float* save_mean,
                                        float* save_invstd) {
  const int64_t count = s.N * s.HW;
  for (int64_t c = blockIdx.x; c < s.C; c += gridDim.x) {
    double acc = 0.0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) acc += x[channel_index(s, c, j)];
    const double mean = block_reduce(acc, SumOp{}, 0.0) / static_cast<double>(count);

    double sq = 0.0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
      double d = x[channel_index(s, c, j)] - mean;
      sq += d * d;
    }
    const double var = block_reduce(sq, SumOp{}, 0.0) / static_cast<double>(count);  // biased

    if (threadIdx.x == 0) {
      save_mean[c] = static_cast<float>(mean);
      save_invstd[c] = 1.0f / sqrtf(static_cast<float>(var) + eps);
      if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * static_cast<float>(mean);
      if (running_var) {
        // The running variance is unbiased (n / (n - 1)), as in PyTorch.
        double unbiased = count > 1 ? var * count / (count - 1) : var;
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
      }
    }
  }
}

// y = (x - mean_c) * invstd_c * gamma_c + beta_c; gamma/beta may be null (1 and 0).
__global__ void normalize_kernel(BatchNormShape s, const float* x, const float* gamma, const float* beta,
                                 const float* mean, const float* invstd, float* y) {
  const int64_t n = s.N * s.C * s.HW;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    int64_t c = (i / s.HW) % s.C;
    float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    y[i] = (x[i] - mean[c]) * invstd[c] * g + b;
  }
}

__global__ void eval_invstd_kernel(int64_t C, const float* running_var, float eps, float* invstd) {
  for (int64_t c = grid_start(); c < C; c += grid_stride()) invstd[c] = 1.0f / sqrtf(running_var[c] + eps);
}

// Per channel: sum_gy = sum gy, sum_gy_xhat = sum gy * (x - mean) * invstd.
// Writes gbeta/ggamma when asked, and the two sums into `sums` ([2, C]) for
// the input gradient.
__global__ void gradient_sums_kernel(BatchNormShape s, const float* x, const float* gy, const float* mean,
                                     const float* invstd, float* ggamma, float* gbeta, float* sums) {
  const int64_t count = s.N * s.HW;
  for (int64_t c = blockIdx.x; c < s.C; c += gridDim.x) {
    const float m = mean[c];
    double acc_gy = 0.0, acc_gy_xc = 0.0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
      int64_t i = channel_index(s, c, j);
      acc_gy += gy[i];
      acc_gy_xc += static_cast<double>(gy[i]) * (x[i] - m);
    }
    acc_gy = block_reduce(acc_gy, SumOp{}, 0.0);
    acc_gy_xc = block_reduce(acc_gy_xc, SumOp{}, 0.0);
    if (threadIdx.x == 0) {
      float sum_gy = static_cast<float>(acc_gy);
      float sum_gy_xhat = static_cast<float>(acc_gy_xc * invstd[c]);
      if (gbeta) gbeta[c] = sum_gy;
      if (ggamma) ggamma[c] = sum_gy_xhat;
      if (sums) {
        sums[c] = sum_gy;
        sums[s.C + c] = sum_gy_xhat;
      }
    }
  }
}

// Training mode: the batch statistics depend on x, so
//   gx = gamma * invstd / n * (n * gy - sum_gy - xhat * sum_gy_xhat).
__global__ void train_input_gradient_kernel(BatchNormShape s, const float* x, const float* gy, const float* gamma,
                                            const float* mean, const float* invstd, const float* sums, float* gx) {
  const int64_t n = s.N * s.C * s.HW;
  const float count = static_cast<float>(s.N * s.HW);
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    int64_t c = (i / s.HW) % s.C;
    float g = gamma ? gamma[c] : 1.0f;
    float xhat = (x[i] - mean[c]) * invstd[c];
    gx[i] = g * invstd[c] / count * (count * gy[i] - sums[c] - xhat * sums[s.C + c]);
  }
}

// Evaluation mode: the statistics are constants, so gx = gy * gamma * invstd.
__global__ void eval_input_gradient_kernel(BatchNormShape s, const float* gy, const float* gamma,
                                           const float* invstd, float* gx) {
  const int64_t n = s.N * s.C * s.HW;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    int64_t c = (i / s.HW) % s.C;
    float g = gamma ? gamma[c] : 1.0f;
    gx[i] = gy[i] * g * invstd[c];
  }
}

int64_t numel(const BatchNormShape& s) { return s.N * s.C * s.HW; }

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             float eps, float momentum, float* running_mean, float* running_var, float* y,
                             float* save_mean, float* save_invstd) {
  if (s.C <= 0) return;
  cuda_detail::launch(train_statistics_kernel, grid_for_items(s.C), kChannelThreads, s, x, eps, momentum, running_mean, running_var, save_mean, save_invstd);
  if (numel(s) <= 0) return;
  cuda_detail::launch(normalize_kernel, grid_for(numel(s)), kThreads, s, x, gamma, beta, save_mean, save_invstd, y);
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
  if (numel(s) <= 0) return;
  nib::cuda::Workspace invstd(sizeof(float) * s.C);
  cuda_detail::launch(eval_invstd_kernel, grid_for(s.C), kThreads, s.C, running_var, eps, invstd.as<float>());
  cuda_detail::launch(normalize_kernel, grid_for(numel(s)), kThreads, s, x, gamma, beta, running_mean, invstd.as<float>(), y);
}

void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  if (s.C <= 0) return;
  // Released when this function returns, while the kernels may still run:
  // safe, because any later user of the block runs after them on the stream.
  nib::cuda::Workspace sums(gx ? sizeof(float) * 2 * s.C : 0);
  cuda_detail::launch(gradient_sums_kernel, grid_for_items(s.C), kChannelThreads, s, x, gy, save_mean, save_invstd, ggamma, gbeta, sums.as<float>());
  if (!gx || numel(s) <= 0) return;
  cuda_detail::launch(train_input_gradient_kernel, grid_for(numel(s)), kThreads, s, x, gy, gamma, save_mean, save_invstd, sums.as<float>(), gx);
}

void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx,
                             float* ggamma, float* gbeta) {
  if (s.C <= 0) return;
  nib::cuda::Workspace invstd(sizeof(float) * s.C);
  cuda_detail::launch(eval_invstd_kernel, grid_for(s.C), kThreads, s.C, running_var, eps, invstd.as<float>());
  if (ggamma || gbeta) {
    cuda_detail::launch(gradient_sums_kernel, grid_for_items(s.C), kChannelThreads, s, x, gy, running_mean, invstd.as<float>(), ggamma, gbeta, nullptr);
  }
  if (!gx || numel(s) <= 0) return;
  cuda_detail::launch(eval_input_gradient_kernel, grid_for(numel(s)), kThreads, s, gy, gamma, invstd.as<float>(), gx);
}

}  // namespace nib::kernels::custom
