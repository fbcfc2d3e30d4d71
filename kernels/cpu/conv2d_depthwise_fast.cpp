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

#include <algorithm>
#include <vector>

#include "kernels/cpu/conv2d_fast_internal.h"

namespace nib::kernels::fast {

namespace {

// Calls row(p, h, offset, qs, tap) for every output row p and kernel tap
// (r, t) whose input row h is inside the image; the output positions qs read
// input columns q * stride_w + offset, all inside the image.
template <class Row>
void for_each_tap_row(const Conv2dProblem& s, Row row) {
  const int64_t P = s.P, Q = s.Q;
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

// One output plane of a depthwise convolution with an S-wide kernel (S known
// at compile time), row by row: each output value sums all its taps in a
// register before it is stored once, instead of the plane being read and
// written once per tap. Within a row, the columns whose every tap lies inside
// the image run without a test and vectorise (SW: the stride, 1 or 2, also
// known at compile time, so the loads are contiguous or de-interleaved); the
// few columns near the edges take the checked loop. Taps are added in the
// same order (r, then t) as in the generic loops.
template <int64_t S, int64_t SW>
void depthwise_plane_rows(const Conv2dProblem& s, const float* x_plane, const float* w_c, float start, float* y_plane) {
  const int64_t P = s.P, Q = s.Q, W = s.W, R = s.R, dh = s.dilation_h, dw = s.dilation_w;
  const int64_t left = s.pad_left;
  // Columns q whose taps q*SW - left + t*dw (t = 0..S-1) all lie in [0, W).
  const ValidRange first_tap = valid_outputs(Q, SW, -left, W);
  const ValidRange last_tap = valid_outputs(Q, SW, (S - 1) * dw - left, W);
  const int64_t inner_lo = std::max(first_tap.lo, last_tap.lo), inner_hi = std::max(inner_lo, std::min(first_tap.hi, last_tap.hi));
  for (int64_t p = 0; p < P; ++p) {
    float* y_row = y_plane + p * Q;
    for (int64_t q = 0; q < Q; ++q) y_row[q] = start;
    for (int64_t r = 0; r < R; ++r) {
      const int64_t h = p * s.stride_h - s.pad_top + r * dh;
      if (h < 0 || h >= s.H) continue;
      const float* x_row = x_plane + h * W;
      const float* w_r = w_c + r * S;
      float taps[S];
      for (int64_t t = 0; t < S; ++t) taps[t] = w_r[t];
      // Edges: each tap checked.
      auto checked = [&](int64_t q) {
        float acc = y_row[q];
        for (int64_t t = 0; t < S; ++t) {
          const int64_t col = q * SW - left + t * dw;
          if (col >= 0 && col < W) acc += taps[t] * x_row[col];
        }
        y_row[q] = acc;
      };
      for (int64_t q = 0; q < inner_lo; ++q) checked(q);
      const float* base = x_row - left;
#pragma omp simd
      for (int64_t q = inner_lo; q < inner_hi; ++q) {
        float acc = y_row[q];
        for (int64_t t = 0; t < S; ++t) acc += taps[t] * base[q * SW + t * dw];
        y_row[q] = acc;
      }
      for (int64_t q = inner_hi; q < Q; ++q) checked(q);
    }
  }
}

// The compile-time instance for this shape, or null for the generic loops.
using PlaneFn = void (*)(const Conv2dProblem&, const float*, const float*, float, float*);
PlaneFn plane_rows_for(const Conv2dProblem& s) {
  if (s.S == 3 && s.stride_w == 1) return depthwise_plane_rows<3, 1>;
  if (s.S == 3 && s.stride_w == 2) return depthwise_plane_rows<3, 2>;
  if (s.S == 5 && s.stride_w == 1) return depthwise_plane_rows<5, 1>;
  if (s.S == 5 && s.stride_w == 2) return depthwise_plane_rows<5, 2>;
  return nullptr;
}

}  // namespace

void depthwise_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q, PQ = s.P * Q, sw = s.stride_w;
  if (PlaneFn plane = plane_rows_for(s)) {
#pragma omp parallel for collapse(2) if (!omp_in_parallel())
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t c = 0; c < C; ++c)
        plane(s, x + (n * C + c) * HW, w + c * s.R * s.S, bias ? bias[c] : 0.0f, y + (n * C + c) * PQ);
    return;
  }
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

void depthwise_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q, PQ = s.P * Q, sw = s.stride_w;
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
void depthwise_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw) {
  const int64_t C = s.C, HW = s.H * s.W, Q = s.Q, PQ = s.P * Q, RS = s.R * s.S, sw = s.stride_w;
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
