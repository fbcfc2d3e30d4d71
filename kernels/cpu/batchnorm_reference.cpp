// Batch normalisation on the CPU, reference version: per channel, loops over
// (n, i) written exactly as the formulas in kernels/batchnorm.h. Statistics
// are accumulated in double so that they are the yardstick for the float
// accumulations of the fast and CUDA versions.
#include <cmath>

#include "kernels/batchnorm.h"

namespace nib::kernels::reference {

namespace {
// Element i of channel c in sample n of [N, C, HW] data.
inline int64_t at(const BatchNormShape& s, int64_t n, int64_t c, int64_t i) { return (n * s.C + c) * s.HW + i; }
}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta, float eps,
                             float momentum, float* running_mean, float* running_var, float* y, float* save_mean,
                             float* save_invstd) {
  const int64_t count = s.N * s.HW;  // values per channel
  for (int64_t c = 0; c < s.C; ++c) {
    double total = 0.0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) total += x[at(s, n, c, i)];
    double mean = total / static_cast<double>(count);

    double squares = 0.0;  // two passes: sum of (x - mean)^2 does not cancel
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        double d = x[at(s, n, c, i)] - mean;
        squares += d * d;
      }
    double var = squares / static_cast<double>(count);  // biased: what normalises
    double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));

    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        int64_t k = at(s, n, c, i);
        y[k] = static_cast<float>((x[k] - mean) * invstd * gamma[c] + beta[c]);
      }

    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    if (running_mean && running_var) {
      // The running variance estimates the population: unbiased, n / (n - 1).
      double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : var;
      running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
  for (int64_t c = 0; c < s.C; ++c) {
    float invstd = 1.0f / std::sqrt(running_var[c] + eps);
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        int64_t k = at(s, n, c, i);
        y[k] = (x[k] - running_mean[c]) * invstd * gamma[c] + beta[c];
      }
  }
}

// With xhat = (x - mean) * invstd and m = N * HW values per channel:
//   gbeta  = sum gy
//   ggamma = sum gy * xhat
//   gx     = gamma * invstd * (gy - gbeta / m - xhat * ggamma / m)
// The last two terms are the gradient flowing through mean and variance.
void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  const double count = static_cast<double>(s.N * s.HW);
  for (int64_t c = 0; c < s.C; ++c) {
    double mean = save_mean[c], invstd = save_invstd[c];
    double sum_gy = 0.0, sum_gy_xhat = 0.0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        int64_t k = at(s, n, c, i);
        sum_gy += gy[k];
        sum_gy_xhat += gy[k] * (x[k] - mean) * invstd;
      }
    if (gbeta) gbeta[c] = static_cast<float>(sum_gy);
    if (ggamma) ggamma[c] = static_cast<float>(sum_gy_xhat);
    if (!gx) continue;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        int64_t k = at(s, n, c, i);
        double xhat = (x[k] - mean) * invstd;
        gx[k] = static_cast<float>(gamma[c] * invstd * (gy[k] - sum_gy / count - xhat * sum_gy_xhat / count));
      }
  }
}

// In evaluation the statistics are constants, so BN is an affine map per channel.
void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx, float* ggamma,
                             float* gbeta) {
  for (int64_t c = 0; c < s.C; ++c) {
    double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    double sum_gy = 0.0, sum_gy_xhat = 0.0;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.HW; ++i) {
        int64_t k = at(s, n, c, i);
        sum_gy += gy[k];
        sum_gy_xhat += gy[k] * (x[k] - running_mean[c]) * invstd;
        if (gx) gx[k] = static_cast<float>(gy[k] * gamma[c] * invstd);
      }
    if (gbeta) gbeta[c] = static_cast<float>(sum_gy);
    if (ggamma) ggamma[c] = static_cast<float>(sum_gy_xhat);
  }
}

}  // namespace nib::kernels::reference
