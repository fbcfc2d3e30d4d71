// Adaptive average pooling, the definition: one window per output cell.
#include "kernels/adaptive_pool.h"

namespace nib::kernels::reference {

namespace {
int64_t window_begin(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
int64_t window_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }
}  // namespace

void adaptive_avg_pool_forward(int64_t planes, int64_t H, int64_t W, int64_t P, int64_t Q, const float* x, float* y) {
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * H * W;
    for (int64_t p = 0; p < P; ++p) {
      int64_t h0 = window_begin(p, H, P), h1 = window_end(p, H, P);
      for (int64_t q = 0; q < Q; ++q) {
        int64_t w0 = window_begin(q, W, Q), w1 = window_end(q, W, Q);
        double sum = 0.0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) sum += xp[h * W + w];
        y[(plane * P + p) * Q + q] = static_cast<float>(sum / static_cast<double>((h1 - h0) * (w1 - w0)));
      }
    }
  }
}

void adaptive_avg_pool_backward(int64_t planes, int64_t H, int64_t W, int64_t P, int64_t Q, const float* gy,
                                float* gx) {
  for (int64_t i = 0; i < planes * H * W; ++i) gx[i] = 0.0f;
  for (int64_t plane = 0; plane < planes; ++plane) {
    float* gxp = gx + plane * H * W;
    for (int64_t p = 0; p < P; ++p) {
      int64_t h0 = window_begin(p, H, P), h1 = window_end(p, H, P);
      for (int64_t q = 0; q < Q; ++q) {
        int64_t w0 = window_begin(q, W, Q), w1 = window_end(q, W, Q);
        float share = gy[(plane * P + p) * Q + q] / static_cast<float>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) gxp[h * W + w] += share;
      }
    }
  }
}

}  // namespace nib::kernels::reference
