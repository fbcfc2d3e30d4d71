// Softmax, log-softmax and cross-entropy on CUDA over the rows of a
// [rows, cols] matrix. The spec is kernels/cpu/softmax_reference.cpp
// (formulas in kernels/softmax.h).
//
// Better than a naive thread-per-row version:
//   - each row gets a block sized to it: one warp for up to 32 columns
//     (10 classes), up to 512 threads for long rows. The threads of a block
//     read consecutive columns (coalesced) and combine the row maximum and
//     sum with warp shuffles, where a thread per row reads with a stride of
//     `cols` floats and walks long rows alone;
//   - cross-entropy is fused with log-softmax: the loss uses
//     log p = x - max - log(sum exp(x - max)), never log(softmax), so a
//     probability that underflows to 0 gives a large finite loss, not inf;
//   - the cross-entropy backward reads the incoming gradient from device
//     memory, so the loss never travels to the host and back;
//   - the labels are validated by the forward kernel, not copied to the host
//     for a check that would wait for the whole forward pass every step
//     (label_errors below).
// Speed: to be measured in bench/.
#include <cmath>
#include <string>

#include "device/cuda/launch.cuh"
#include "kernels/softmax.h"
#include "util/error.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

constexpr unsigned kMaxRowThreads = 512;

// A multiple of 32 covering cols, at most kMaxRowThreads.
unsigned threads_for_row(int64_t cols) {
  int64_t warps = (cols + 31) / 32;
  return static_cast<unsigned>(std::min<int64_t>(warps * 32, kMaxRowThreads));
}

// The row's maximum and log(sum exp(x - max)); every thread of the block gets them.
struct RowStats {
  float max, log_sum;
};

__device__ inline RowStats row_stats(const float* x, int64_t cols) {
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, x[c]);
  m = block_reduce(m, MaxOp{}, -INFINITY);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(x[c] - m);
  sum = block_reduce(sum, SumOp{}, 0.0f);
  return {m, logf(sum)};
}

__global__ void softmax_forward_kernel(int64_t rows, int64_t cols, const float* x, float* y, bool log) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    RowStats st = row_stats(in, cols);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      float shifted = in[c] - st.max - st.log_sum;  // log softmax
      out[c] = log ? shifted : expf(shifted);
    }
  }
}

// softmax:     gx = y * (gy - sum(gy * y))
// log-softmax: gx = gy - exp(y) * sum(gy)
__global__ void softmax_backward_kernel(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx,
                                        bool log) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* yr = y + r * cols;
    const float* gr = gy + r * cols;
    float* out = gx + r * cols;
    float dot = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dot += log ? gr[c] : gr[c] * yr[c];
    dot = block_reduce(dot, SumOp{}, 0.0f);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
      out[c] = log ? gr[c] - expf(yr[c]) * dot : yr[c] * (gr[c] - dot);
  }
}

// loss = -sum_c target_c * log p_c with target = (1 - s) * onehot + s / cols:
//      = -(1 - s) * log p_label - (s / cols) * sum_c log p_c.
// A label outside [0, cols) is never used as an index: its row's loss is
// NaN, and the label is recorded in `errors` (see label_errors below).
__global__ void cross_entropy_forward_kernel(int64_t rows, int64_t cols, const float* logits, const int32_t* labels,
                                             float smoothing, float* loss_rows, float* probs,
                                             nib::cuda::DeviceErrorReport::Slot* errors) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* in = logits + r * cols;
    RowStats st = row_stats(in, cols);
    // log p = (x - max) - log_sum, in that order, as the softmax kernel and
    // the reference do: x - max is exact for the logits near the maximum
    // (the probabilities that matter), and the one rounding after it is at
    // the scale of log p. Folding max + log_sum into one log_z first would
    // round at the scale of max instead (an ulp of 30 is 2e-6 with logits
    // of scale 10) and shift every probability by that much.
    float sum_log_p = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      float log_p = (in[c] - st.max) - st.log_sum;
      probs[r * cols + c] = expf(log_p);
      sum_log_p += log_p;
    }
    sum_log_p = block_reduce(sum_log_p, SumOp{}, 0.0f);
    if (threadIdx.x == 0) {
      int32_t label = labels[r];
      float loss = NAN;
      if (label >= 0 && label < cols) {
        float log_p_label = (in[label] - st.max) - st.log_sum;
        loss = -(1.0f - smoothing) * log_p_label - (smoothing / static_cast<float>(cols)) * sum_log_p;
      } else {
        record_device_error(errors, r, label, cols);
      }
      loss_rows[r] = loss;
    }
  }
}

// gx = (probs - target) * grad_loss[0] / rows, one thread per element, in
// 32-bit indices below 2^31 elements (with_index_type, launch.cuh).
template <class Index>
__global__ void cross_entropy_backward_kernel(Index rows, Index cols, const float* probs, const int32_t* labels,
                                              float smoothing, const float* grad_loss, float* gx) {
  const Index n = rows * cols;
  const float scale = grad_loss[0] / static_cast<float>(rows);
  const float off_target = smoothing / static_cast<float>(cols);
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    const Index r = i / cols, c = i - r * cols;
    float target = off_target + (c == labels[r] ? 1.0f - smoothing : 0.0f);
    gx[i] = (probs[i] - target) * scale;
  }
}

// Labels are checked by the forward kernel, on the GPU: checking them on
// the host would copy them there on every call, and that copy waits for
// everything queued before it (the whole forward pass), every training
// step. The error surfaces at the first wait for the GPU after the call
// (loss.item(), nib::cuda::synchronize; device/cuda/context.h), with the message
// the CPU check gives at the call.
std::string describe_bad_label(long long position, int label, long long classes) {
  return str("cross_entropy: label ", label, " at position ", position, " is outside [0, ", classes,
             ") (found on the GPU by the cross_entropy kernel; reported at the first wait for the GPU after that ",
             "call)");
}

nib::cuda::DeviceErrorReport& label_errors() {
  static auto* report = new nib::cuda::DeviceErrorReport(describe_bad_label);  // never destroyed: see context.cpp
  return *report;
}

}  // namespace

void softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, bool log) {
  if (rows <= 0 || cols <= 0) return;
  cuda_detail::launch(softmax_forward_kernel, grid_for_items(rows), threads_for_row(cols), rows, cols, x, y, log);
}

void softmax_backward(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx, bool log) {
  if (rows <= 0 || cols <= 0) return;
  cuda_detail::launch(softmax_backward_kernel, grid_for_items(rows), threads_for_row(cols), rows, cols, y, gy, gx, log);
}

void cross_entropy_forward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float smoothing,
                           float* loss_rows, float* probs) {
  if (rows <= 0 || cols <= 0) return;
  NIB_CHECK(rows < (int64_t{1} << 32), "cuda::cross_entropy_forward: ", rows, " rows; at most 2^32 are supported");
  cuda_detail::launch(cross_entropy_forward_kernel, grid_for_items(rows), threads_for_row(cols), rows, cols, logits,
                      labels, smoothing, loss_rows, probs, label_errors().arm());
}

void cross_entropy_backward(int64_t rows, int64_t cols, const float* probs, const int32_t* labels, float smoothing,
                            const float* grad_loss, float* gx) {
  const int64_t n = rows * cols;
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(n, grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(cross_entropy_backward_kernel<Index>, grid, kThreads, static_cast<Index>(rows),
                        static_cast<Index>(cols), probs, labels, smoothing, grad_loss, gx);
  });
}

}  // namespace nib::kernels::cuda
