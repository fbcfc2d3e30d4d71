// Max, average and global average pooling on CUDA, NCHW. The spec is
// kernels/cpu/pool_reference.cpp; the index arithmetic is the same.
//
// Better than a naive version:
//   - the backward passes gather instead of scatter: each input pixel sums
//     the gradients of the few outputs whose windows contain it. A scatter
//     (each output adding into its window) needs atomicAdd wherever windows
//     overlap, a zero-fill pass first, and gives run-to-run different sums;
//     the gather needs neither and is deterministic;
//   - global average pooling gives each plane a warp, which reads the plane
//     with coalesced loads and sums it with shuffles; a thread per plane
//     would read 32 planes with strided, uncoalesced loads.
// Speed: to be measured in bench/.
#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/pool.h"

namespace nib::kernels::custom {

using namespace cuda_detail;

namespace {

// The sizes a kernel needs, with P and Q computed once on the host.
struct PoolGeometry {
  int64_t planes, H, W, P, Q;
  int64_t kh, kw, sh, sw, pt, pl;
  int64_t pad_bottom, pad_right;
};

PoolGeometry geometry(const Pool2dShape& s) {
  return {s.N * s.C, s.H, s.W, s.P(), s.Q(), s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.pad_top, s.pad_left,
          s.pad_bottom, s.pad_right};
}

// The outputs along one axis whose windows contain input position h:
// p*stride - pad <= h < p*stride - pad + kernel, clipped to [0, P).
__device__ inline void windows_containing(int64_t h, int64_t pad, int64_t kernel, int64_t stride, int64_t P,
                                          int64_t& begin, int64_t& end) {
  int64_t shifted = h + pad;  // >= 0
  begin = shifted < kernel ? 0 : (shifted - kernel) / stride + 1;
  end = min(shifted / stride + 1, P);
}

// The divisor of average pooling for output (p, q).
__device__ inline float avg_divisor(const PoolGeometry& g, int64_t p, int64_t q, bool count_include_pad) {
  if (count_include_pad) return static_cast<float>(g.kh * g.kw);
  int64_t h0 = p * g.sh - g.pt, w0 = q * g.sw - g.pl;
  int64_t rows = min(h0 + g.kh, g.H) - max(h0, int64_t{0});
  int64_t cols = min(w0 + g.kw, g.W) - max(w0, int64_t{0});
  return static_cast<float>(max(rows, int64_t{0}) * max(cols, int64_t{0}));
}

// One thread per output. Ties go to the first position in row-major order,
// and padding never wins; a window entirely in the padding gives -inf and
// argmax -1. A NaN always wins, and a later NaN replaces an earlier one (the
// last NaN in row-major order), as in the reference and in PyTorch: NaNs
// propagate instead of vanishing behind a max.
__global__ void max_pool_forward_kernel(PoolGeometry g, const float* x, float* y, int32_t* argmax) {
  const int64_t n = g.planes * g.P * g.Q;
  for (int64_t k = grid_start(); k < n; k += grid_stride()) {
    int64_t q = k % g.Q, p = (k / g.Q) % g.P, plane = k / (g.P * g.Q);
    const float* in = x + plane * g.H * g.W;
    int64_t h0 = p * g.sh - g.pt, w0 = q * g.sw - g.pl;
    float best = -INFINITY;
    int64_t best_index = -1;
    for (int64_t h = max(h0, int64_t{0}); h < min(h0 + g.kh, g.H); ++h) {
      for (int64_t w = max(w0, int64_t{0}); w < min(w0 + g.kw, g.W); ++w) {
        float v = in[h * g.W + w];
        if (best_index < 0 || v > best || isnan(v)) {
          best = v;
          best_index = h * g.W + w;
        }
      }
    }
    y[k] = best;
    if (argmax) argmax[k] = static_cast<int32_t>(best_index);
  }
}

// One thread per input pixel: sums gy over the outputs that chose it.
__global__ void max_pool_backward_kernel(PoolGeometry g, const float* gy, const int32_t* argmax, float* gx) {
  const int64_t n = g.planes * g.H * g.W;
  for (int64_t k = grid_start(); k < n; k += grid_stride()) {
    int64_t w = k % g.W, h = (k / g.W) % g.H, plane = k / (g.H * g.W);
    int64_t p_begin, p_end, q_begin, q_end;
    windows_containing(h, g.pt, g.kh, g.sh, g.P, p_begin, p_end);
    windows_containing(w, g.pl, g.kw, g.sw, g.Q, q_begin, q_end);
    const int64_t out_plane = plane * g.P * g.Q;
    const int32_t me = static_cast<int32_t>(h * g.W + w);
    float acc = 0.0f;
    for (int64_t p = p_begin; p < p_end; ++p)
      for (int64_t q = q_begin; q < q_end; ++q)
        if (argmax[out_plane + p * g.Q + q] == me) acc += gy[out_plane + p * g.Q + q];
    gx[k] = acc;
  }
}

__global__ void avg_pool_forward_kernel(PoolGeometry g, const float* x, float* y, bool count_include_pad) {
  const int64_t n = g.planes * g.P * g.Q;
  for (int64_t k = grid_start(); k < n; k += grid_stride()) {
    int64_t q = k % g.Q, p = (k / g.Q) % g.P, plane = k / (g.P * g.Q);
    const float* in = x + plane * g.H * g.W;
    int64_t h0 = p * g.sh - g.pt, w0 = q * g.sw - g.pl;
    float acc = 0.0f;
    for (int64_t h = max(h0, int64_t{0}); h < min(h0 + g.kh, g.H); ++h)
      for (int64_t w = max(w0, int64_t{0}); w < min(w0 + g.kw, g.W); ++w) acc += in[h * g.W + w];
    float divisor = avg_divisor(g, p, q, count_include_pad);
    y[k] = divisor > 0.0f ? acc / divisor : 0.0f;
  }
}

__global__ void avg_pool_backward_kernel(PoolGeometry g, const float* gy, float* gx, bool count_include_pad) {
  const int64_t n = g.planes * g.H * g.W;
  for (int64_t k = grid_start(); k < n; k += grid_stride()) {
    int64_t w = k % g.W, h = (k / g.W) % g.H, plane = k / (g.H * g.W);
    int64_t p_begin, p_end, q_begin, q_end;
    windows_containing(h, g.pt, g.kh, g.sh, g.P, p_begin, p_end);
    windows_containing(w, g.pl, g.kw, g.sw, g.Q, q_begin, q_end);
    const float* g_plane = gy + plane * g.P * g.Q;
    float acc = 0.0f;
    for (int64_t p = p_begin; p < p_end; ++p)
      for (int64_t q = q_begin; q < q_end; ++q) acc += g_plane[p * g.Q + q] / avg_divisor(g, p, q, count_include_pad);
    gx[k] = acc;
  }
}

// One warp per plane.
__global__ void global_avg_pool_forward_kernel(int64_t planes, int64_t HW, const float* x, float* y) {
  const int lane = threadIdx.x & 31;
  const int64_t first_warp = grid_start() / 32, warps = grid_stride() / 32;
  for (int64_t plane = first_warp; plane < planes; plane += warps) {
    const float* in = x + plane * HW;
    double acc = 0.0;
    for (int64_t i = lane; i < HW; i += 32) acc += in[i];
    acc = warp_reduce(acc, SumOp{});
    if (lane == 0) y[plane] = static_cast<float>(acc / static_cast<double>(HW));
  }
}

__global__ void global_avg_pool_backward_kernel(int64_t n, int64_t HW, const float* gy, float* gx) {
  const float inv = 1.0f / static_cast<float>(HW);
  for (int64_t k = grid_start(); k < n; k += grid_stride()) gx[k] = gy[k / HW] * inv;
}

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  PoolGeometry g = geometry(s);
  const int64_t n = g.planes * g.P * g.Q;
  if (n <= 0) return;
  cuda_detail::launch(max_pool_forward_kernel, grid_for(n), kThreads, g, x, y, argmax);
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  PoolGeometry g = geometry(s);
  const int64_t n = g.planes * g.H * g.W;
  if (n <= 0) return;
  cuda_detail::launch(max_pool_backward_kernel, grid_for(n), kThreads, g, gy, argmax, gx);
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  PoolGeometry g = geometry(s);
  const int64_t n = g.planes * g.P * g.Q;
  if (n <= 0) return;
  cuda_detail::launch(avg_pool_forward_kernel, grid_for(n), kThreads, g, x, y, count_include_pad);
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  PoolGeometry g = geometry(s);
  const int64_t n = g.planes * g.H * g.W;
  if (n <= 0) return;
  cuda_detail::launch(avg_pool_backward_kernel, grid_for(n), kThreads, g, gy, gx, count_include_pad);
}

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
  if (planes <= 0) return;
  cuda_detail::launch(global_avg_pool_forward_kernel, grid_for(planes * 32), kThreads, planes, HW, x, y);
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
  const int64_t n = planes * HW;
  if (n <= 0) return;
  cuda_detail::launch(global_avg_pool_backward_kernel, grid_for(n), kThreads, n, HW, gy, gx);
}

}  // namespace nib::kernels::custom
