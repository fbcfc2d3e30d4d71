// Batch normalisation on CUDA over [N, C, HW]. The spec is
// kernels/cpu/batchnorm_reference.cpp (formulas in kernels/batchnorm.h).
//
// Each pass is split in launches:
//   1. per-channel sums (the statistics forward, sum gy and sum gy * (x -
//      mean) backward): each channel's N*HW values (strided in memory: HW
//      contiguous values per sample) are cut into `chunks` ranges, one block
//      each, which reduces its range with warp shuffles, in double, into a
//      partial sum; a second small kernel adds each channel's partials in a
//      fixed order (deterministic) and finishes the per-channel numbers;
//   2. the element-wise part (normalise, or the input gradient) over all
//      N*C*HW values with every thread of the GPU, reading the per-channel
//      numbers from step 1.
// Better than a naive thread-per-channel version, which leaves the GPU idle
// with 64 channels and walks each channel serially; and better than one
// block per channel (this file's previous version), which with C = 32
// channels runs 32 blocks on a GPU of 132 multiprocessors: the chunks give
// about four blocks per multiprocessor whatever C is (expected to speed up
// the statistics of small-C layers several-fold; not yet measured on a GPU).
// A block walks its range with additions only (ChannelCursor), no division
// per element.
//
// The variance comes from sums of (x - shift) and (x - shift)^2 in double,
// with shift = the channel's first value: one pass over x instead of two
// (mean first, then squared deviations), and no cancellation worth the
// name, since the shift lies within the data's spread (the error grows
// with ((mean - shift) / std)^2 times double's 1e-16).
//
// The element-wise kernels index in 32 bits below 2^31 elements
// (with_index_type, launch.cuh): their channel (i / HW) % C is then two
// 32-bit divisions per element instead of two emulated 64-bit ones
// (expected to matter in these memory-bound kernels; not yet measured).
// Speed: to be measured in bench/.
#include <algorithm>
#include <cmath>

#include "device/cuda/launch.cuh"
#include "kernels/batchnorm.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

constexpr unsigned kChannelThreads = 256;

// Walks some of the N*HW values of channel c: j = first, first + step, ...
// where j = n*HW + k stands for x[(n*C + c)*HW + k]. The memory offset is
// kept up to date with additions: advancing j by step moves k by step % HW
// and n by step / HW, plus one more sample when k passes the end of a plane.
struct ChannelCursor {
  int64_t k, offset;          // the current value's position in its plane, and in memory
  int64_t step_k, step_offset;  // what one step adds to them
  int64_t HW, next_sample;      // from k == HW to the start of the next sample's plane: (C - 1) * HW

  __device__ ChannelCursor(const BatchNormShape& s, int64_t c, int64_t first, int64_t step) {
    const int64_t n = first / s.HW, step_n = step / s.HW;
    k = first - n * s.HW;
    offset = (n * s.C + c) * s.HW + k;
    step_k = step - step_n * s.HW;
    step_offset = step_n * s.C * s.HW + step_k;
    HW = s.HW;
    next_sample = (s.C - 1) * s.HW;
  }
  __device__ void advance() {
    k += step_k;
    offset += step_offset;
    if (k >= HW) {
      k -= HW;
      offset += next_sample;
    }
  }
};

// Calls add(offset) for the values of channel c in this block's chunk
// (blockIdx.x of gridDim.x chunks of chunk_len values), spread over the
// block's threads.
template <class Add>
__device__ void for_chunk_of_channel(const BatchNormShape& s, int64_t c, int64_t chunk_len, Add add) {
  const int64_t count = s.N * s.HW;
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * chunk_len + threadIdx.x;
  const int64_t end = min(static_cast<int64_t>(blockIdx.x + 1) * chunk_len, count);
  if (begin >= end) return;
  ChannelCursor at(s, c, begin, blockDim.x);
  for (int64_t j = begin; j < end; j += blockDim.x, at.advance()) add(at.offset);
}

// partial is [2][C][chunks]: two sums per channel and chunk.
__device__ inline void write_partials(const BatchNormShape& s, int64_t c, double a, double b, double* partial) {
  a = block_reduce(a, SumOp{}, 0.0);
  b = block_reduce(b, SumOp{}, 0.0);
  if (threadIdx.x == 0) {
    const int64_t chunks = gridDim.x;
    partial[c * chunks + blockIdx.x] = a;
    partial[(s.C + c) * chunks + blockIdx.x] = b;
  }
}

// The value each channel's statistics are shifted by: its first value.
__device__ inline float shift_of(const BatchNormShape& s, const float* x, int64_t c) { return x[c * s.HW]; }

// Grid (chunks, channels): sum (x - shift) and sum (x - shift)^2 over each chunk.
__global__ void statistics_partials_kernel(BatchNormShape s, const float* x, int64_t chunk_len, double* partial) {
  for (int64_t c = blockIdx.y; c < s.C; c += gridDim.y) {
    const double shift = shift_of(s, x, c);
    double sum = 0.0, squares = 0.0;
    for_chunk_of_channel(s, c, chunk_len, [&](int64_t i) {
      const double d = x[i] - shift;
      sum += d;
      squares += d * d;
    });
    write_partials(s, c, sum, squares, partial);
  }
}

// One thread per channel: the chunks' sums in order, then mean, invstd and
// the running statistics.
__global__ void statistics_finish_kernel(BatchNormShape s, const float* x, const double* partial, int64_t chunks,
                                         float eps, float momentum, float* running_mean, float* running_var,
                                         float* save_mean, float* save_invstd) {
  const int64_t count = s.N * s.HW;
  for (int64_t c = grid_start(); c < s.C; c += grid_stride()) {
    double sum = 0.0, squares = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      sum += partial[c * chunks + chunk];
      squares += partial[(s.C + c) * chunks + chunk];
    }
    const double shifted_mean = sum / static_cast<double>(count);
    const double mean = shift_of(s, x, c) + shifted_mean;
    const double var = max(squares / static_cast<double>(count) - shifted_mean * shifted_mean, 0.0);  // biased
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

// Grid (chunks, channels): sum gy and sum gy * (x - mean) over each chunk.
__global__ void gradient_partials_kernel(BatchNormShape s, const float* x, const float* gy, const float* mean,
                                         int64_t chunk_len, double* partial) {
  for (int64_t c = blockIdx.y; c < s.C; c += gridDim.y) {
    const float m = mean[c];
    double sum_gy = 0.0, sum_gy_xc = 0.0;
    for_chunk_of_channel(s, c, chunk_len, [&](int64_t i) {
      sum_gy += gy[i];
      sum_gy_xc += static_cast<double>(gy[i]) * (x[i] - m);
    });
    write_partials(s, c, sum_gy, sum_gy_xc, partial);
  }
}

// One thread per channel: sum_gy = sum gy, sum_gy_xhat = sum gy * (x - mean) * invstd.
// Writes gbeta/ggamma when asked, and the two sums into `sums` ([2, C]) for
// the input gradient.
__global__ void gradient_finish_kernel(BatchNormShape s, const double* partial, int64_t chunks, const float* invstd,
                                       float* ggamma, float* gbeta, float* sums) {
  for (int64_t c = grid_start(); c < s.C; c += grid_stride()) {
    double acc_gy = 0.0, acc_gy_xc = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      acc_gy += partial[c * chunks + chunk];
      acc_gy_xc += partial[(s.C + c) * chunks + chunk];
    }
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

// The channel of element i of [N, C, HW]: (i / HW) % C, in the kernel's index type.
template <class Index>
__device__ inline Index channel_of(Index i, Index HW, Index C) {
  const Index plane = i / HW;
  return plane - (plane / C) * C;
}

// y = (x - mean_c) * invstd_c * gamma_c + beta_c; gamma/beta may be null (1 and 0).
template <class Index>
__global__ void normalize_kernel(BatchNormShape s, const float* x, const float* gamma, const float* beta,
                                 const float* mean, const float* invstd, float* y) {
  const Index HW = static_cast<Index>(s.HW), C = static_cast<Index>(s.C), n = static_cast<Index>(s.N) * C * HW;
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    const Index c = channel_of(i, HW, C);
    float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    y[i] = (x[i] - mean[c]) * invstd[c] * g + b;
  }
}

__global__ void eval_invstd_kernel(int64_t C, const float* running_var, float eps, float* invstd) {
  for (int64_t c = grid_start(); c < C; c += grid_stride()) invstd[c] = 1.0f / sqrtf(running_var[c] + eps);
}

// Training mode: the batch statistics depend on x, so
//   gx = gamma * invstd / n * (n * gy - sum_gy - xhat * sum_gy_xhat).
template <class Index>
__global__ void train_input_gradient_kernel(BatchNormShape s, const float* x, const float* gy, const float* gamma,
                                            const float* mean, const float* invstd, const float* sums, float* gx) {
  const Index HW = static_cast<Index>(s.HW), C = static_cast<Index>(s.C), n = static_cast<Index>(s.N) * C * HW;
  const float count = static_cast<float>(s.N * s.HW);
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    const Index c = channel_of(i, HW, C);
    float g = gamma ? gamma[c] : 1.0f;
    float xhat = (x[i] - mean[c]) * invstd[c];
    gx[i] = g * invstd[c] / count * (count * gy[i] - sums[c] - xhat * sums[C + c]);
  }
}

// Evaluation mode: the statistics are constants, so gx = gy * gamma * invstd.
template <class Index>
__global__ void eval_input_gradient_kernel(BatchNormShape s, const float* gy, const float* gamma,
                                           const float* invstd, float* gx) {
  const Index HW = static_cast<Index>(s.HW), C = static_cast<Index>(s.C), n = static_cast<Index>(s.N) * C * HW;
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    const Index c = channel_of(i, HW, C);
    float g = gamma ? gamma[c] : 1.0f;
    gx[i] = gy[i] * g * invstd[c];
  }
}

int64_t numel(const BatchNormShape& s) { return s.N * s.C * s.HW; }

// How each channel's values are cut into chunks, one block each: enough
// blocks over all channels for about four per multiprocessor, but no chunk
// shorter than four values per thread (below that a block spends its time
// reducing, not reading).
struct ChannelSplit {
  int64_t chunks, chunk_len;
};

ChannelSplit split_channels(const BatchNormShape& s) {
  const int64_t count = s.N * s.HW;
  const int64_t wanted = (4 * nib::cuda::properties().multiProcessorCount + s.C - 1) / s.C;
  const int64_t most = std::max<int64_t>(1, count / (4 * kChannelThreads));
  const int64_t chunks = std::clamp<int64_t>(wanted, 1, most);
  return {chunks, (count + chunks - 1) / chunks};
}

dim3 channel_grid(const BatchNormShape& s, const ChannelSplit& split) {
  return dim3(static_cast<unsigned>(split.chunks), static_cast<unsigned>(std::min<int64_t>(s.C, 65535)));
}

// The element-wise kernels' launch: 32-bit indices when they fit.
template <class Launch>
void launch_elementwise(const BatchNormShape& s, Launch launch) {
  const unsigned grid = grid_for(numel(s));
  with_index_type(fits_int32(numel(s), grid, kThreads),
                  [&]<class Index>() { launch.template operator()<Index>(grid); });
}

// Per-channel sum_gy and sum_gy * (x - mean) * invstd (see gradient_finish_kernel).
void gradient_sums(const BatchNormShape& s, const float* x, const float* gy, const float* mean, const float* invstd,
                   float* ggamma, float* gbeta, float* sums) {
  const ChannelSplit split = split_channels(s);
  // Released when this function returns, while the kernels may still run:
  // safe, because any later user of the block runs after them on the stream.
  nib::cuda::Workspace partial(sizeof(double) * 2 * s.C * split.chunks);
  cuda_detail::launch(gradient_partials_kernel, channel_grid(s, split), kChannelThreads, s, x, gy, mean,
                      split.chunk_len, partial.as<double>());
  cuda_detail::launch(gradient_finish_kernel, grid_for(s.C), kThreads, s, partial.as<const double>(), split.chunks,
                      invstd, ggamma, gbeta, sums);
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             float eps, float momentum, float* running_mean, float* running_var, float* y,
                             float* save_mean, float* save_invstd) {
  if (numel(s) <= 0) return;
  const ChannelSplit split = split_channels(s);
  nib::cuda::Workspace partial(sizeof(double) * 2 * s.C * split.chunks);
  cuda_detail::launch(statistics_partials_kernel, channel_grid(s, split), kChannelThreads, s, x, split.chunk_len,
                      partial.as<double>());
  cuda_detail::launch(statistics_finish_kernel, grid_for(s.C), kThreads, s, x, partial.as<const double>(),
                      split.chunks, eps, momentum, running_mean, running_var, save_mean, save_invstd);
  launch_elementwise(s, [&]<class Index>(unsigned grid) {
    cuda_detail::launch(normalize_kernel<Index>, grid, kThreads, s, x, gamma, beta, save_mean, save_invstd, y);
  });
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
  if (numel(s) <= 0) return;
  nib::cuda::Workspace invstd(sizeof(float) * s.C);
  cuda_detail::launch(eval_invstd_kernel, grid_for(s.C), kThreads, s.C, running_var, eps, invstd.as<float>());
  launch_elementwise(s, [&]<class Index>(unsigned grid) {
    cuda_detail::launch(normalize_kernel<Index>, grid, kThreads, s, x, gamma, beta, running_mean,
                        invstd.as<const float>(), y);
  });
}

void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  if (s.C <= 0) return;
  if (numel(s) <= 0) {  // an empty batch: the parameter gradients are zero
    if (ggamma) NIB_CUDA_CHECK(cudaMemsetAsync(ggamma, 0, sizeof(float) * s.C, nib::cuda::stream()));
    if (gbeta) NIB_CUDA_CHECK(cudaMemsetAsync(gbeta, 0, sizeof(float) * s.C, nib::cuda::stream()));
    return;
  }
  nib::cuda::Workspace sums(gx ? sizeof(float) * 2 * s.C : 0);
  gradient_sums(s, x, gy, save_mean, save_invstd, ggamma, gbeta, sums.as<float>());
  if (!gx) return;
  launch_elementwise(s, [&]<class Index>(unsigned grid) {
    cuda_detail::launch(train_input_gradient_kernel<Index>, grid, kThreads, s, x, gy, gamma, save_mean, save_invstd,
                        sums.as<const float>(), gx);
  });
}

void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx,
                             float* ggamma, float* gbeta) {
  if (s.C <= 0) return;
  if (numel(s) <= 0) {  // an empty batch: the parameter gradients are zero
    if (ggamma) NIB_CUDA_CHECK(cudaMemsetAsync(ggamma, 0, sizeof(float) * s.C, nib::cuda::stream()));
    if (gbeta) NIB_CUDA_CHECK(cudaMemsetAsync(gbeta, 0, sizeof(float) * s.C, nib::cuda::stream()));
    return;
  }
  nib::cuda::Workspace invstd(sizeof(float) * s.C);
  cuda_detail::launch(eval_invstd_kernel, grid_for(s.C), kThreads, s.C, running_var, eps, invstd.as<float>());
  if (ggamma || gbeta) gradient_sums(s, x, gy, running_mean, invstd.as<const float>(), ggamma, gbeta, nullptr);
  if (!gx) return;
  launch_elementwise(s, [&]<class Index>(unsigned grid) {
    cuda_detail::launch(eval_input_gradient_kernel<Index>, grid, kThreads, s, gy, gamma, invstd.as<const float>(),
                        gx);
  });
}

}  // namespace nib::kernels::cuda
