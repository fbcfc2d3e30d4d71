// Batch normalisation on the CPU, fast version. What it does better than the
// reference:
//   - OpenMP over channels: each channel's statistics and outputs are
//     independent, so there is no reduction across threads;
//   - each (sample, channel) row of HW values is contiguous, and the inner
//     loops over it are float vector loops (omp simd reductions); rows are
//     combined in double so long channels (N * HW in the millions) stay exact;
//   - the per-channel affine map is folded into one multiply-add:
//     y = x * scale + shift with scale = gamma * invstd, shift = beta - mean * scale.
// For [N, C] data (HW = 1) the rows are single values; BatchNorm1d layers are
// small enough that this does not matter.
#include <cmath>

#include "kernels/batchnorm.h"

namespace nib::kernels::fast {

namespace {

// The HW values of sample n, channel c.
inline const float* row(const BatchNormShape& s, const float* data, int64_t n, int64_t c) {
  return data + (n * s.C + c) * s.HW;
}
inline float* row(const BatchNormShape& s, float* data, int64_t n, int64_t c) { return data + (n * s.C + c) * s.HW; }

// y = x * scale + shift over channel c.
void affine_channel(const BatchNormShape& s, const float* x, int64_t c, float scale, float shift, float* y) {
  for (int64_t n = 0; n < s.N; ++n) {
    const float* xr = row(s, x, n, c);
    float* yr = row(s, y, n, c);
#pragma omp simd
    for (int64_t i = 0; i < s.HW; ++i) yr[i] = xr[i] * scale + shift;
  }
}

// sum gy and sum gy * (x - mean) over channel c.
void gradient_sums(const BatchNormShape& s, const float* x, const float* gy, int64_t c, float mean, double& sum_gy,
                   double& sum_gy_xmu) {
  sum_gy = 0.0;
  sum_gy_xmu = 0.0;
  for (int64_t n = 0; n < s.N; ++n) {
    const float* xr = row(s, x, n, c);
    const float* gr = row(s, gy, n, c);
    float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < s.HW; ++i) {
      a += gr[i];
      b += gr[i] * (xr[i] - mean);
    }
    sum_gy += a;
    sum_gy_xmu += b;
  }
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const float* x, const float* gamma, const float* beta, float eps,
                             float momentum, float* running_mean, float* running_var, float* y, float* save_mean,
                             float* save_invstd) {
  const int64_t count = s.N * s.HW;
#pragma omp parallel for
  for (int64_t c = 0; c < s.C; ++c) {
    double total = 0.0;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* xr = row(s, x, n, c);
      float part = 0.0f;
#pragma omp simd reduction(+ : part)
      for (int64_t i = 0; i < s.HW; ++i) part += xr[i];
      total += part;
    }
    const float mean = static_cast<float>(total / static_cast<double>(count));

    double squares = 0.0;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* xr = row(s, x, n, c);
      float part = 0.0f;
#pragma omp simd reduction(+ : part)
      for (int64_t i = 0; i < s.HW; ++i) part += (xr[i] - mean) * (xr[i] - mean);
      squares += part;
    }
    const double var = squares / static_cast<double>(count);
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    const float scale = gamma[c] * invstd;
    affine_channel(s, x, c, scale, beta[c] - mean * scale, y);

    save_mean[c] = mean;
    save_invstd[c] = invstd;
    if (running_mean && running_var) {
      double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : var;
      running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
}

void batchnorm_forward_eval(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y) {
#pragma omp parallel for if (s.N * s.C * s.HW > (1 << 14))
  for (int64_t c = 0; c < s.C; ++c) {
    const float scale = gamma[c] / std::sqrt(running_var[c] + eps);
    affine_channel(s, x, c, scale, beta[c] - running_mean[c] * scale, y);
  }
}

void batchnorm_backward_train(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                              const float* save_mean, const float* save_invstd, float* gx, float* ggamma,
                              float* gbeta) {
  const double count = static_cast<double>(s.N * s.HW);
#pragma omp parallel for
  for (int64_t c = 0; c < s.C; ++c) {
    const float mean = save_mean[c], invstd = save_invstd[c];
    double sum_gy, sum_gy_xmu;
    gradient_sums(s, x, gy, c, mean, sum_gy, sum_gy_xmu);
    if (gbeta) gbeta[c] = static_cast<float>(sum_gy);
    if (ggamma) ggamma[c] = static_cast<float>(sum_gy_xmu * invstd);
    if (!gx) continue;
    // gx = gamma * invstd * (gy - mean(gy) - (x - mean) * invstd^2 * mean(gy * (x - mean)))
    const float k = gamma[c] * invstd;
    const float gy_mean = static_cast<float>(sum_gy / count);
    const float slope = static_cast<float>(sum_gy_xmu / count) * invstd * invstd;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* xr = row(s, x, n, c);
      const float* gr = row(s, gy, n, c);
      float* out = row(s, gx, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i) out[i] = k * (gr[i] - gy_mean - (xr[i] - mean) * slope);
    }
  }
}

void batchnorm_backward_eval(const BatchNormShape& s, const float* x, const float* gy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* gx, float* ggamma,
                             float* gbeta) {
#pragma omp parallel for if (s.N * s.C * s.HW > (1 << 14))
  for (int64_t c = 0; c < s.C; ++c) {
    const float invstd = 1.0f / std::sqrt(running_var[c] + eps);
    double sum_gy, sum_gy_xmu;
    gradient_sums(s, x, gy, c, running_mean[c], sum_gy, sum_gy_xmu);
    if (gbeta) gbeta[c] = static_cast<float>(sum_gy);
    if (ggamma) ggamma[c] = static_cast<float>(sum_gy_xmu * invstd);
    if (!gx) continue;
    const float k = gamma[c] * invstd;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* gr = row(s, gy, n, c);
      float* out = row(s, gx, n, c);
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i) out[i] = gr[i] * k;
    }
  }
}

}  // namespace nib::kernels::fast
