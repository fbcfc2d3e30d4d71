// Pooling on the CPU, fast version. What it does better than the reference:
//   - OpenMP over (plane, output row): every output is independent, and the
//     backward passes split over planes, each of which owns its gx plane, so
//     the scatter needs no atomics;
//   - the clipped window of every output row and column is computed once per
//     call, not once per output, so the inner loops carry no bounds logic;
//   - the average pooling inner loop runs over contiguous columns and vectorises.
// Max and average pooling add in the reference's order, so they match it
// exactly; global pooling sums in float vector lanes (the reference uses double).
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/pool.h"

namespace nib::kernels::fast {

namespace {

constexpr int64_t kParallelThreshold = 1 << 12;  // outputs; below this threads cost more than they save

// For one axis: output o reads input [begin[o], end[o]) and, with
// count_include_pad, its padded extent has `padded[o]` positions.
struct AxisWindows {
  std::vector<int64_t> begin, end, padded;
};

AxisWindows axis_windows(int64_t outputs, int64_t size, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after) {
  AxisWindows a;
  a.begin.resize(outputs);
  a.end.resize(outputs);
  a.padded.resize(outputs);
  for (int64_t o = 0; o < outputs; ++o) {
    int64_t start = o * stride - pad_before;
    a.begin[o] = std::max<int64_t>(start, 0);
    a.end[o] = std::min(start + kernel, size);
    a.padded[o] = std::min(start + kernel, size + pad_after) - start;
  }
  return a;
}

struct Windows {
  AxisWindows rows, cols;
  explicit Windows(const Pool2dShape& s)
      : rows(axis_windows(s.P(), s.H, s.kernel_h, s.stride_h, s.pad_top, s.pad_bottom)),
        cols(axis_windows(s.Q(), s.W, s.kernel_w, s.stride_w, s.pad_left, s.pad_right)) {}

  int64_t divisor(int64_t p, int64_t q, bool count_include_pad) const {
    if (count_include_pad) return rows.padded[p] * cols.padded[q];
    return (rows.end[p] - rows.begin[p]) * (cols.end[q] - cols.begin[q]);
  }
};

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t P = s.P(), Q = s.Q(), planes = s.N * s.C;
  const Windows win(s);
#pragma omp parallel for collapse(2) if (planes * P * Q > kParallelThreshold)
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t p = 0; p < P; ++p) {
      const float* xp = x + plane * s.H * s.W;
      float* yr = y + (plane * P + p) * Q;
      int32_t* ar = argmax ? argmax + (plane * P + p) * Q : nullptr;
      for (int64_t q = 0; q < Q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        int32_t best_index = -1;
        for (int64_t h = win.rows.begin[p]; h < win.rows.end[p]; ++h) {
          const float* xr = xp + h * s.W;
          for (int64_t w = win.cols.begin[q]; w < win.cols.end[q]; ++w) {
            float v = xr[w];
            if (best_index < 0 || v > best || v != v) {
              best = v;
              best_index = static_cast<int32_t>(h * s.W + w);
            }
          }
        }
        yr[q] = best;
        if (ar) ar[q] = best_index;
      }
    }
  }
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  const int64_t PQ = s.P() * s.Q(), HW = s.H * s.W;
#pragma omp parallel for if (s.N * s.C * PQ > kParallelThreshold)
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    float* gxp = gx + plane * HW;
    std::memset(gxp, 0, sizeof(float) * HW);
    const float* gyp = gy + plane * PQ;
    const int32_t* ap = argmax + plane * PQ;
    for (int64_t i = 0; i < PQ; ++i)
      if (ap[i] >= 0) gxp[ap[i]] += gyp[i];
  }
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  const int64_t P = s.P(), Q = s.Q(), planes = s.N * s.C;
  const Windows win(s);
#pragma omp parallel for collapse(2) if (planes * P * Q > kParallelThreshold)
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t p = 0; p < P; ++p) {
      const float* xp = x + plane * s.H * s.W;
      float* yr = y + (plane * P + p) * Q;
      for (int64_t q = 0; q < Q; ++q) {
        float total = 0.0f;
        for (int64_t h = win.rows.begin[p]; h < win.rows.end[p]; ++h) {
          const float* xr = xp + h * s.W;
          for (int64_t w = win.cols.begin[q]; w < win.cols.end[q]; ++w) total += xr[w];
        }
        int64_t divisor = win.divisor(p, q, count_include_pad);
        yr[q] = divisor > 0 ? total / static_cast<float>(divisor) : 0.0f;
      }
    }
  }
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  const int64_t P = s.P(), Q = s.Q(), HW = s.H * s.W;
  const Windows win(s);
#pragma omp parallel for if (s.N * s.C * P * Q > kParallelThreshold)
  for (int64_t plane = 0; plane < s.N * s.C; ++plane) {
    float* gxp = gx + plane * HW;
    std::memset(gxp, 0, sizeof(float) * HW);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        int64_t divisor = win.divisor(p, q, count_include_pad);
        if (divisor == 0) continue;
        float share = gy[(plane * P + p) * Q + q] / static_cast<float>(divisor);
        for (int64_t h = win.rows.begin[p]; h < win.rows.end[p]; ++h) {
          float* gr = gxp + h * s.W;
#pragma omp simd
          for (int64_t w = win.cols.begin[q]; w < win.cols.end[q]; ++w) gr[w] += share;
        }
      }
    }
  }
}

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
#pragma omp parallel for if (planes * HW > kParallelThreshold)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * HW;
    float total = 0.0f;
#pragma omp simd reduction(+ : total)
    for (int64_t i = 0; i < HW; ++i) total += xp[i];
    y[plane] = total / static_cast<float>(HW);
  }
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
#pragma omp parallel for if (planes * HW > kParallelThreshold)
  for (int64_t plane = 0; plane < planes; ++plane) {
    float share = gy[plane] / static_cast<float>(HW);
    float* gp = gx + plane * HW;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) gp[i] = share;
  }
}

}  // namespace nib::kernels::fast
