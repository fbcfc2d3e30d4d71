// Pooling on the CPU, reference version: one output at a time, its window
// scanned in full. The index arithmetic here is the spec the fast and CUDA
// versions follow.
#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/pool.h"

namespace nib::kernels::reference {

namespace {

// The part of output (p, q)'s window that lies inside the H x W plane:
// rows [h0, h1), columns [w0, w1). Padded positions are simply outside it.
struct Window {
  int64_t h0, h1, w0, w1;
};

Window window_of(const Pool2dShape& s, int64_t p, int64_t q) {
  int64_t top = p * s.stride_h - s.pad_top;
  int64_t left = q * s.stride_w - s.pad_left;
  return {std::max<int64_t>(top, 0), std::min(top + s.kernel_h, s.H), std::max<int64_t>(left, 0),
          std::min(left + s.kernel_w, s.W)};
}

// The divisor of average pooling: the whole window with count_include_pad
// (clipped, like PyTorch, to the padded extent, never beyond it), otherwise
// only the positions inside the plane.
int64_t divisor_of(const Pool2dShape& s, int64_t p, int64_t q, const Window& w, bool count_include_pad) {
  if (!count_include_pad) return (w.h1 - w.h0) * (w.w1 - w.w0);
  int64_t top = p * s.stride_h - s.pad_top;
  int64_t left = q * s.stride_w - s.pad_left;
  int64_t bottom = std::min(top + s.kernel_h, s.H + s.pad_bottom);
  int64_t right = std::min(left + s.kernel_w, s.W + s.pad_right);
  return (bottom - top) * (right - left);
}

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    const float* xp = x + plane * s.H * s.W;
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        Window w = window_of(s, p, q);
        // A window entirely in the padding has no winner: output -inf, index -1.
        float best = -std::numeric_limits<float>::infinity();
        int32_t best_index = -1;
        for (int64_t h = w.h0; h < w.h1; ++h) {
          for (int64_t c = w.w0; c < w.w1; ++c) {
            float v = xp[h * s.W + c];
            // '>' keeps the first maximum; NaN wins so it propagates, as in PyTorch.
            if (best_index < 0 || v > best || v != v) {
              best = v;
              best_index = static_cast<int32_t>(h * s.W + c);
            }
          }
        }
        int64_t out = (plane * P + p) * Q + q;
        y[out] = best;
        if (argmax) argmax[out] = best_index;
      }
    }
  }
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  const int64_t P = s.P(), Q = s.Q();
  std::memset(gx, 0, sizeof(float) * s.N * s.C * s.H * s.W);
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    for (int64_t i = 0; i < P * Q; ++i) {
      int32_t winner = argmax[plane * P * Q + i];
      // Overlapping windows (stride < kernel) may share a winner: accumulate.
      if (winner >= 0) gx[plane * s.H * s.W + winner] += gy[plane * P * Q + i];
    }
  }
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    const float* xp = x + plane * s.H * s.W;
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        Window w = window_of(s, p, q);
        float total = 0.0f;
        for (int64_t h = w.h0; h < w.h1; ++h)
          for (int64_t c = w.w0; c < w.w1; ++c) total += xp[h * s.W + c];
        int64_t divisor = divisor_of(s, p, q, w, count_include_pad);
        y[(plane * P + p) * Q + q] = divisor > 0 ? total / static_cast<float>(divisor) : 0.0f;
      }
    }
  }
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  const int64_t P = s.P(), Q = s.Q();
  std::memset(gx, 0, sizeof(float) * s.N * s.C * s.H * s.W);
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    float* gxp = gx + plane * s.H * s.W;
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        Window w = window_of(s, p, q);
        int64_t divisor = divisor_of(s, p, q, w, count_include_pad);
        if (divisor == 0) continue;
        float share = gy[(plane * P + p) * Q + q] / static_cast<float>(divisor);
        for (int64_t h = w.h0; h < w.h1; ++h)
          for (int64_t c = w.w0; c < w.w1; ++c) gxp[h * s.W + c] += share;
      }
    }
  }
}

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
  for (int64_t plane = 0; plane < planes; ++plane) {
    double total = 0.0;  // double: a 56x56 plane is 3136 terms
    for (int64_t i = 0; i < HW; ++i) total += x[plane * HW + i];
    y[plane] = static_cast<float>(total / static_cast<double>(HW));
  }
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
  for (int64_t plane = 0; plane < planes; ++plane) {
    float share = gy[plane] / static_cast<float>(HW);
    for (int64_t i = 0; i < HW; ++i) gx[plane * HW + i] = share;
  }
}

}  // namespace nib::kernels::reference
