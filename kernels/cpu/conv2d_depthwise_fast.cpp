// Depthwise convolution (groups == C == K) on the CPU: direct loops.
//
// Every channel is convolved with its own R x S filter. As a GEMM this would
// be C products of a single row each — all im2col copying and no reuse — so
// instead each (image, channel) plane is one independent task for a thread,
// and within it the loops run tap by tap over whole output rows:
//
//   for each output row p, each tap (r, t):   y[p, q] += w[r, t] * x[h(p, r), q*sw + offset(t)]
//
// The innermost loop walks along q over a range precomputed to stay inside
// the image, so it has no bounds test and vectorises (stride 1 reads
// contiguously). The same shape serves both backward passes.
#include <omp.h>

#include <vector>

#include "kernels/cpu/conv2d_fast_internal.h"

namespace nib::kernels::fast {

namespace {

// Calls row(p, h, offset, qs, tap) for every output row p and kernel tap
// (r, t) whose input row h is inside the image; the output positions qs read
// input columns q * stride_w + offset, all inside the image.
template <class Row>
void for_each_tap_row(const Conv2dShape& s, Row row) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t r = 0; r < s.R; ++r) {
    const ValidRange ps = valid_outputs(P, s.stride_h, r * s.dilation_h - s.pad_top, s.H);
    for (int64_t t = 0; t < s.S; ++t) {
      const int64_t offset = t * s.dilation_w - s.pad_left;
      const ValidRange qs = valid_outputs(Q, s.stride_w, offset, s.W);
      for (int64_t p = ps.lo; p < ps.hi; ++p)
        row(p, p * s.stride_h - s.pad_top + r * s.dilation_h, offset, qs, r * s.S + t);
    }
  }
}

}  // namespace

void depthwise_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q(), PQ = s.P() * Q, sw = s.stride_w;
#pragma omp parallel for collapse(2) if (!omp_in_parallel())
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const float* x_plane = x + (n * C + c) * HW;
      const float* w_c = w + c * s.R * s.S;
      float* y_plane = y + (n * C + c) * PQ;
      const float start = bias ? bias[c] : 0.0f;
      for (int64_t i = 0; i < PQ; ++i) y_plane[i] = start;
      for_each_tap_row(s, [&](int64_t p, int64_t h, int64_t offset, ValidRange qs, int64_t tap) {
        const float weight = w_c[tap];
        const float* x_row = x_plane + h * s.W;
        float* y_row = y_plane + p * Q;
        if (sw == 1)  // contiguous: plain vector loads instead of gathers
          for (int64_t q = qs.lo; q < qs.hi; ++q) y_row[q] += weight * x_row[q + offset];
        else
          for (int64_t q = qs.lo; q < qs.hi; ++q) y_row[q] += weight * x_row[q * sw + offset];
      });
    }
  }
}

void depthwise_backward_data(const Conv2dShape& s, const float* gy, const float* w, float* gx) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q(), PQ = s.P() * Q, sw = s.stride_w;
#pragma omp parallel for collapse(2) if (!omp_in_parallel())
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const float* gy_plane = gy + (n * C + c) * PQ;
      const float* w_c = w + c * s.R * s.S;
      float* gx_plane = gx + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) gx_plane[i] = 0.0f;
      for_each_tap_row(s, [&](int64_t p, int64_t h, int64_t offset, ValidRange qs, int64_t tap) {
        const float weight = w_c[tap];
        float* gx_row = gx_plane + h * s.W;
        const float* gy_row = gy_plane + p * Q;
        for (int64_t q = qs.lo; q < qs.hi; ++q) gx_row[q * sw + offset] += weight * gy_row[q];
      });
    }
  }
}

// Threads split the channels, each summing over the whole batch, so every
// weight has exactly one writer.
void depthwise_backward_weight(const Conv2dShape& s, const float* x, const float* gy, float* gw) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q(), PQ = s.P() * Q, RS = s.R * s.S, sw = s.stride_w;
#pragma omp parallel for if (!omp_in_parallel())
  for (int64_t c = 0; c < C; ++c) {
    std::vector<double> tap_sums(static_cast<size_t>(RS), 0.0);
    for (int64_t n = 0; n < s.N; ++n) {
      const float* x_plane = x + (n * C + c) * HW;
      const float* gy_plane = gy + (n * C + c) * PQ;
      for_each_tap_row(s, [&](int64_t p, int64_t h, int64_t offset, ValidRange qs, int64_t tap) {
        const float* x_row = x_plane + h * s.W;
        const float* gy_row = gy_plane + p * Q;
        float row_sum = 0.0f;  // a row in float (vectorises), rows summed in double
        if (sw == 1) {  // contiguous: plain vector loads instead of gathers
#pragma omp simd reduction(+ : row_sum)
          for (int64_t q = qs.lo; q < qs.hi; ++q) row_sum += gy_row[q] * x_row[q + offset];
        } else {
#pragma omp simd reduction(+ : row_sum)
          for (int64_t q = qs.lo; q < qs.hi; ++q) row_sum += gy_row[q] * x_row[q * sw + offset];
        }
        tap_sums[static_cast<size_t>(tap)] += row_sum;
      });
    }
    for (int64_t tap = 0; tap < RS; ++tap) gw[c * RS + tap] = static_cast<float>(tap_sums[static_cast<size_t>(tap)]);
  }
}

}  // namespace nib::kernels::fast
