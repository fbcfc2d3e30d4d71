// Inverted dropout on the CPU. Element i is kept when
//   counter_uniform(seed, i) >= p
// (probability 1 - p). The CUDA version applies the same rule to the same
// (seed, i), so both devices drop exactly the same elements.
#include "kernels/counter_rng.h"
#include "kernels/dropout.h"

namespace nib::kernels::reference {

namespace {
// p = 1 drops everything; the scale is then irrelevant and 0 avoids 0 * inf.
inline float keep_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }
}  // namespace

void dropout_forward(int64_t n, const float* x, float p, uint64_t seed, uint8_t* mask, float* y) {
  const float scale = keep_scale(p);
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    bool keep = counter_uniform(seed, static_cast<uint64_t>(i)) >= p;
    mask[i] = keep ? 1 : 0;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}

void dropout_backward(int64_t n, const float* gy, const uint8_t* mask, float p, float* gx) {
  const float scale = keep_scale(p);
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) gx[i] = mask[i] ? gy[i] * scale : 0.0f;
}

}  // namespace nib::kernels::reference
