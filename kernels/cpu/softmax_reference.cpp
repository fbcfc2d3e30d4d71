// Softmax, log-softmax and fused cross-entropy on the CPU, reference version:
// one row at a time, in double.
//
// Numerical stability: exp(x - max) never overflows, and log_softmax is
// computed as (x - max) - log(sum exp(x - max)), never as log(softmax), so a
// probability that underflows to 0 still has a finite log.
#include <cmath>

#include "kernels/softmax.h"

namespace nib::kernels::reference {

namespace {

// max of the row and log(sum exp(x - max)): log_softmax(x)_c = x_c - max - log_sum.
void row_stats(int64_t cols, const float* x, double& max, double& log_sum) {
  max = x[0];
  for (int64_t c = 1; c < cols; ++c) max = std::fmax(max, x[c]);
  double total = 0.0;
  for (int64_t c = 0; c < cols; ++c) total += std::exp(x[c] - max);
  log_sum = std::log(total);
}

// The smoothed target of class c: (1 - smoothing) * onehot + smoothing / cols.
inline double target(int64_t c, int32_t label, float smoothing, int64_t cols) {
  return (c == label ? 1.0 - smoothing : 0.0) + static_cast<double>(smoothing) / static_cast<double>(cols);
}

}  // namespace

void softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    double max, log_sum;
    row_stats(cols, xr, max, log_sum);
    for (int64_t c = 0; c < cols; ++c) {
      double log_p = xr[c] - max - log_sum;
      y[r * cols + c] = static_cast<float>(log ? log_p : std::exp(log_p));
    }
  }
}

// softmax:     gx_c = y_c * (gy_c - sum_k gy_k y_k)
// log_softmax: gx_c = gy_c - exp(y_c) * sum_k gy_k
void softmax_backward(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gyr = gy + r * cols;
    double dot = 0.0;
    for (int64_t c = 0; c < cols; ++c) dot += log ? gyr[c] : static_cast<double>(gyr[c]) * yr[c];
    for (int64_t c = 0; c < cols; ++c) {
      double g = log ? gyr[c] - std::exp(static_cast<double>(yr[c])) * dot : yr[c] * (gyr[c] - dot);
      gx[r * cols + c] = static_cast<float>(g);
    }
  }
}

void cross_entropy_forward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float smoothing,
                           float* loss_rows, float* probs) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = logits + r * cols;
    double max, log_sum;
    row_stats(cols, xr, max, log_sum);
    double loss = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      double log_p = xr[c] - max - log_sum;
      loss -= target(c, labels[r], smoothing, cols) * log_p;
      probs[r * cols + c] = static_cast<float>(std::exp(log_p));
    }
    loss_rows[r] = static_cast<float>(loss);
  }
}

// d(mean loss)/d logits = (softmax - target) / rows, times the incoming gradient.
void cross_entropy_backward(int64_t rows, int64_t cols, const float* probs, const int32_t* labels, float smoothing,
                            const float* grad_loss, float* gx) {
  double scale = static_cast<double>(grad_loss[0]) / static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      int64_t k = r * cols + c;
      gx[k] = static_cast<float>((probs[k] - target(c, labels[r], smoothing, cols)) * scale);
    }
}

}  // namespace nib::kernels::reference
