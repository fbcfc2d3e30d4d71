// 2-D convolution on the CPU, fast version: im2col + GEMM.
//
// For one image and one group, copy every receptive field into a column
// ("im2col"): col[(c, r, s), (p, q)] = x[c, p*sh - pad_top + r*dh, ...].
// The convolution is then a single matrix product that fast::gemm runs near
// the machine's peak, instead of seven loops with no reuse:
//
//   forward          y[Kg, PQ]     = w[Kg, CgRS] · col[CgRS, PQ]
//   backward weight  gw[Kg, CgRS] += gy[Kg, PQ]  · col[CgRS, PQ]ᵀ   (summed over images)
//   backward data    col[CgRS, PQ] = w[Kg, CgRS]ᵀ · gy[Kg, PQ], then col2im
//                    scatters each column back onto the pixels it came from.
//
// The price is memory traffic: col is R*S times larger than the image.
// Two cases avoid it: a 1x1, stride-1, unpadded convolution, whose input
// already *is* col; and depthwise convolution (groups == C == K), where each
// GEMM would be a 1-row product, so direct loops win
// (conv2d_depthwise_fast.cpp).
//
// Threads: with at least as many images as threads, images run in parallel,
// each thread with its own col buffer (the GEMMs inside then stay on one
// thread). With fewer images (batch 1 at inference) images run one after
// another and the threads work inside im2col, col2im and the GEMM.
#include <omp.h>

#include <cstring>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_fast_internal.h"
#include "kernels/gemm.h"

namespace nib::kernels::fast {

namespace {

// The input is already the column matrix: no copy needed.
bool is_pointwise(const Conv2dProblem& s) {
  return s.R == 1 && s.S == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 && s.pad_bottom == 0 &&
         s.pad_left == 0 && s.pad_right == 0;
}

// x: the Cg channels of one group of one image; col: [Cg*R*S, P*Q].
void im2col(const Conv2dProblem& s, const float* x, float* col) {
  const int64_t P = s.P, Q = s.Q, rows = s.C_per_group * s.R * s.S;
#pragma omp parallel for if (!omp_in_parallel() && rows * P * Q > 32 * 1024)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t c = row / (s.R * s.S), r = row / s.S % s.R, t = row % s.S;
    const float* plane = x + c * s.H * s.W;
    float* out = col + row * P * Q;
    const ValidRange ps = valid_outputs(P, s.stride_h, r * s.dilation_h - s.pad_top, s.H);
    const ValidRange qs = valid_outputs(Q, s.stride_w, t * s.dilation_w - s.pad_left, s.W);
    for (int64_t p = 0; p < P; ++p) {
      float* out_row = out + p * Q;
      if (p < ps.lo || p >= ps.hi) {  // this whole output row reads padding
        std::memset(out_row, 0, sizeof(float) * Q);
        continue;
      }
      const float* in_row = plane + (p * s.stride_h - s.pad_top + r * s.dilation_h) * s.W;
      const int64_t offset = t * s.dilation_w - s.pad_left;
      for (int64_t q = 0; q < qs.lo; ++q) out_row[q] = 0.0f;
      for (int64_t q = qs.lo; q < qs.hi; ++q) out_row[q] = in_row[q * s.stride_w + offset];
      for (int64_t q = qs.hi; q < Q; ++q) out_row[q] = 0.0f;
    }
  }
}

// The adjoint of im2col: x[c, h, w] += every col entry that was copied from
// it. Threads split the channels, as each channel's rows only touch its plane.
void col2im(const Conv2dProblem& s, const float* col, float* x) {
  const int64_t P = s.P, Q = s.Q, Cg = s.C_per_group;
#pragma omp parallel for if (!omp_in_parallel() && Cg * s.R * s.S * P * Q > 32 * 1024)
  for (int64_t c = 0; c < Cg; ++c) {
    float* plane = x + c * s.H * s.W;
    std::memset(plane, 0, sizeof(float) * s.H * s.W);
    for (int64_t r = 0; r < s.R; ++r) {
      for (int64_t t = 0; t < s.S; ++t) {
        const float* in = col + ((c * s.R + r) * s.S + t) * P * Q;
        const ValidRange ps = valid_outputs(P, s.stride_h, r * s.dilation_h - s.pad_top, s.H);
        const ValidRange qs = valid_outputs(Q, s.stride_w, t * s.dilation_w - s.pad_left, s.W);
        const int64_t offset = t * s.dilation_w - s.pad_left;
        for (int64_t p = ps.lo; p < ps.hi; ++p) {
          float* x_row = plane + (p * s.stride_h - s.pad_top + r * s.dilation_h) * s.W;
          for (int64_t q = qs.lo; q < qs.hi; ++q) x_row[q * s.stride_w + offset] += in[p * Q + q];
        }
      }
    }
  }
}

// How many threads to give the loop over images: all of them when there are
// enough images, otherwise one (and the work inside goes parallel).
int image_threads(int64_t N) {
  int threads = omp_get_max_threads();
  return !omp_in_parallel() && N >= threads ? threads : 1;
}

// One column buffer per thread (none for pointwise convolutions), kept by the
// calling thread from one call to the next: a network runs the same
// convolutions batch after batch, and fresh zero-filled buffers cost a memset
// and a page fault per 4 KiB each time (VGG16's first layers need 115 MB per
// image). im2col writes every entry, so a kept buffer is never cleared. The
// buffers grow to the largest convolution run so far and stay allocated.
// (Plain pointers are returned: inside the parallel region the name of a
// thread_local would mean each worker's own, empty, one.)
std::vector<float*> col_buffers(const Conv2dProblem& s, int threads) {
  thread_local std::vector<std::vector<float>> kept;
  const size_t size = is_pointwise(s) ? 0 : static_cast<size_t>(s.C_per_group * s.R * s.S * s.P * s.Q);
  if (kept.size() < static_cast<size_t>(threads)) kept.resize(static_cast<size_t>(threads));
  std::vector<float*> out(static_cast<size_t>(threads));
  for (size_t t = 0; t < out.size(); ++t) {
    if (kept[t].size() < size) kept[t].resize(size);
    out[t] = kept[t].data();
  }
  return out;
}

}  // namespace

void conv2d_bias_gradient(const Conv2dProblem& s, const float* gy, float* gbias) {
  const int64_t PQ = s.P * s.Q;
#pragma omp parallel for if (!omp_in_parallel() && s.N * s.K * PQ > 64 * 1024)
  for (int64_t k = 0; k < s.K; ++k) {
    double total = 0.0;
    for (int64_t n = 0; n < s.N; ++n) {
      const float* row = gy + (n * s.K + k) * PQ;
      float partial = 0.0f;  // one plane in float (vectorises), planes summed in double
#pragma omp simd reduction(+ : partial)
      for (int64_t i = 0; i < PQ; ++i) partial += row[i];
      total += partial;
    }
    gbias[k] = static_cast<float>(total);
  }
}

void conv2d_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  if (s.is_depthwise()) return depthwise_forward(s, x, w, bias, y);
  const int64_t HW = s.H * s.W, PQ = s.P * s.Q, Cg = s.C_per_group, Kg = s.K_per_group;
  const int64_t CgRS = Cg * s.R * s.S;
  const int threads = image_threads(s.N);
  auto cols = col_buffers(s, threads);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    float* col = cols[static_cast<size_t>(omp_get_thread_num())];
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* x_g = x + (n * s.C + g * Cg) * HW;
      if (!is_pointwise(s)) im2col(s, x_g, col);
      const float* b = is_pointwise(s) ? x_g : col;
      float* y_g = y + (n * s.K + g * Kg) * PQ;
      gemm(false, false, Kg, PQ, CgRS, 1.0f, w + g * Kg * CgRS, CgRS, b, PQ, 0.0f, y_g, PQ);
    }
    if (bias)
      for (int64_t k = 0; k < s.K; ++k) {
        float* plane = y + (n * s.K + k) * PQ;
        for (int64_t i = 0; i < PQ; ++i) plane[i] += bias[k];
      }
  }
}

void conv2d_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  if (s.is_depthwise()) return depthwise_backward_data(s, gy, w, gx);
  const int64_t HW = s.H * s.W, PQ = s.P * s.Q, Cg = s.C_per_group, Kg = s.K_per_group;
  const int64_t CgRS = Cg * s.R * s.S;
  const int threads = image_threads(s.N);
  auto cols = col_buffers(s, threads);
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    float* col = cols[static_cast<size_t>(omp_get_thread_num())];
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* w_g = w + g * Kg * CgRS;
      const float* gy_g = gy + (n * s.K + g * Kg) * PQ;
      float* gx_g = gx + (n * s.C + g * Cg) * HW;
      if (is_pointwise(s)) {  // gx is the column matrix: write it directly
        gemm(true, false, Cg, HW, Kg, 1.0f, w_g, Cg, gy_g, PQ, 0.0f, gx_g, HW);
      } else {
        gemm(true, false, CgRS, PQ, Kg, 1.0f, w_g, CgRS, gy_g, PQ, 0.0f, col, PQ);
        col2im(s, col, gx_g);
      }
    }
  }
}

void conv2d_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw, float* gbias) {
  const int64_t weight_size = s.K * s.C_per_group * s.R * s.S;
  if (s.is_depthwise()) {
    depthwise_backward_weight(s, x, gy, gw);
  } else {
    const int64_t HW = s.H * s.W, PQ = s.P * s.Q, Cg = s.C_per_group, Kg = s.K_per_group;
    const int64_t CgRS = Cg * s.R * s.S;
    const int threads = image_threads(s.N);
    auto cols = col_buffers(s, threads);
    // Each thread sums its images' contributions into its own copy of gw;
    // the copies are added up at the end (no two threads write one address).
    std::vector<std::vector<float>> partial_gw(static_cast<size_t>(threads),
                                               std::vector<float>(static_cast<size_t>(weight_size), 0.0f));
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (int64_t n = 0; n < s.N; ++n) {
      const size_t thread = static_cast<size_t>(omp_get_thread_num());
      float* col = cols[thread];
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* x_g = x + (n * s.C + g * Cg) * HW;
        if (!is_pointwise(s)) im2col(s, x_g, col);
        const float* b = is_pointwise(s) ? x_g : col;
        const float* gy_g = gy + (n * s.K + g * Kg) * PQ;
        gemm(false, true, Kg, CgRS, PQ, 1.0f, gy_g, PQ, b, PQ, 1.0f, partial_gw[thread].data() + g * Kg * CgRS,
             CgRS);
      }
    }
    for (int64_t i = 0; i < weight_size; ++i) {
      float total = 0.0f;
      for (const auto& part : partial_gw) total += part[static_cast<size_t>(i)];
      gw[i] = total;
    }
  }
  if (gbias) conv2d_bias_gradient(s, gy, gbias);
}

}  // namespace nib::kernels::fast
