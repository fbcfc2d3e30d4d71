// Softmax, log-softmax and cross-entropy on the CPU, fast version. What it
// does better than the reference:
//   - OpenMP over rows (rows are independent);
//   - float arithmetic in three vectorisable sweeps per row (max, sum of
//     exp, write), instead of double;
//   - cross-entropy computes the loss in the same sweep that writes the
//     probabilities: with z = x - max and sum_c target_c = 1,
//       loss = log_sum - sum_c target_c * z_c
//            = log_sum - (1 - smoothing) * z_label - smoothing / cols * sum_c z_c
//     (z, not x: subtracting the max first keeps large logits from cancelling).
#include <cmath>

#include "kernels/softmax.h"

namespace nib::kernels::fast {

namespace {

constexpr int64_t kParallelThreshold = 1 << 14;  // elements; below this threads cost more than they save

// Stable row statistics: max and log(sum exp(x - max)).
inline void row_stats(int64_t cols, const float* x, float& max, float& log_sum) {
  float m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t c = 1; c < cols; ++c) m = x[c] > m ? x[c] : m;
  float total = 0.0f;
#pragma omp simd reduction(+ : total)
  for (int64_t c = 0; c < cols; ++c) total += std::exp(x[c] - m);
  max = m;
  log_sum = std::log(total);
}

}  // namespace

void softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, bool log) {
#pragma omp parallel for if (rows * cols > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float max, log_sum;
    row_stats(cols, xr, max, log_sum);
    if (log) {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - max) - log_sum;
    } else {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) yr[c] = std::exp((xr[c] - max) - log_sum);
    }
  }
}

void softmax_backward(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx, bool log) {
#pragma omp parallel for if (rows * cols > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gyr = gy + r * cols;
    float* gxr = gx + r * cols;
    float dot = 0.0f;
    if (log) {
#pragma omp simd reduction(+ : dot)
      for (int64_t c = 0; c < cols; ++c) dot += gyr[c];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) gxr[c] = gyr[c] - std::exp(yr[c]) * dot;
    } else {
#pragma omp simd reduction(+ : dot)
      for (int64_t c = 0; c < cols; ++c) dot += gyr[c] * yr[c];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) gxr[c] = yr[c] * (gyr[c] - dot);
    }
  }
}

void cross_entropy_forward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float smoothing,
                           float* loss_rows, float* probs) {
  const float off = smoothing / static_cast<float>(cols);  // every class's share of the smoothing
#pragma omp parallel for if (rows * cols > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = logits + r * cols;
    float* pr = probs + r * cols;
    float max, log_sum;
    row_stats(cols, xr, max, log_sum);
    float z_sum = 0.0f;
#pragma omp simd reduction(+ : z_sum)
    for (int64_t c = 0; c < cols; ++c) {
      pr[c] = std::exp((xr[c] - max) - log_sum);
      z_sum += xr[c] - max;
    }
    loss_rows[r] = log_sum - (1.0f - smoothing) * (xr[labels[r]] - max) - off * z_sum;
  }
}

void cross_entropy_backward(int64_t rows, int64_t cols, const float* probs, const int32_t* labels, float smoothing,
                            const float* grad_loss, float* gx) {
  const float scale = grad_loss[0] / static_cast<float>(rows);
  const float off = smoothing / static_cast<float>(cols);
#pragma omp parallel for if (rows * cols > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = probs + r * cols;
    float* gr = gx + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) gr[c] = (pr[c] - off) * scale;
    gr[labels[r]] -= (1.0f - smoothing) * scale;
  }
}

}  // namespace nib::kernels::fast
