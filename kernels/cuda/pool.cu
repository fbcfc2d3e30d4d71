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
//     would read 32 planes with strided, uncoalesced loads;
//   - 32-bit indices (with_index_type, launch.cuh) below 2^31 elements, and
//     two divisions per flat index instead of three: the coordinates of an
//     element cost 64-bit divisions otherwise, which can take longer than
//     the kernel's memory traffic. Expected to speed up these
//     memory-bound kernels; not yet measured on a GPU.
// Speed: to be measured in bench/.
#include <algorithm>
#include <cmath>

#include "device/cuda/launch.cuh"
#include "kernels/pool.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

// The sizes a kernel needs, with P and Q computed once on the host, in the
// kernel's index type (see with_index_type in launch.cuh).
template <class Index>
struct PoolGeometry {
  Index planes, H, W, P, Q;
  Index kh, kw, sh, sw, pt, pl;
};

template <class Index>
PoolGeometry<Index> geometry(const Pool2dShape& s) {
  auto i = [](int64_t v) { return static_cast<Index>(v); };
  return {i(s.N * s.C), i(s.H),        i(s.W),        i(s.P()),      i(s.Q()),      i(s.kernel_h),
          i(s.kernel_w), i(s.stride_h), i(s.stride_w), i(s.pad_top), i(s.pad_left)};
}

// Flat index k of a [planes, rows, cols] tensor split into its coordinates,
// with two divisions instead of three (a modulo is a division too).
template <class Index>
struct PlaneCoords {
  Index plane, row, col;
};
template <class Index>
__device__ inline PlaneCoords<Index> plane_coords(Index k, Index rows, Index cols) {
  const Index plane_row = k / cols, plane = plane_row / rows;
  return {plane, plane_row - plane * rows, k - plane_row * cols};
}

// The outputs along one axis whose windows contain input position h:
// p*stride - pad <= h < p*stride - pad + kernel, clipped to [0, P).
template <class Index>
__device__ inline void windows_containing(Index h, Index pad, Index kernel, Index stride, Index P, Index& begin,
                                          Index& end) {
  Index shifted = h + pad;  // >= 0
  begin = shifted < kernel ? 0 : (shifted - kernel) / stride + 1;
  end = min(shifted / stride + 1, P);
}

// The divisor of average pooling for output (p, q).
template <class Index>
__device__ inline float avg_divisor(const PoolGeometry<Index>& g, Index p, Index q, bool count_include_pad) {
  if (count_include_pad) return static_cast<float>(g.kh * g.kw);
  Index h0 = p * g.sh - g.pt, w0 = q * g.sw - g.pl;
  Index rows = min(h0 + g.kh, g.H) - max(h0, Index{0});
  Index cols = min(w0 + g.kw, g.W) - max(w0, Index{0});
  return static_cast<float>(max(rows, Index{0}) * max(cols, Index{0}));
}

// One thread per output. Ties go to the first position in row-major order,
// and padding never wins; a window entirely in the padding gives -inf and
// argmax -1. A NaN always wins, and a later NaN replaces an earlier one (the
// last NaN in row-major order), as in the reference and in PyTorch: NaNs
// propagate instead of vanishing behind a max.
template <class Index>
__global__ void max_pool_forward_kernel(PoolGeometry<Index> g, const float* x, float* y, int32_t* argmax) {
  const Index n = g.planes * g.P * g.Q;
  for (Index k = grid_start<Index>(); k < n; k += grid_stride<Index>()) {
    const PlaneCoords<Index> at = plane_coords(k, g.P, g.Q);
    const float* in = x + at.plane * g.H * g.W;
    Index h0 = at.row * g.sh - g.pt, w0 = at.col * g.sw - g.pl;
    float best = -INFINITY;
    Index best_index = -1;
    for (Index h = max(h0, Index{0}); h < min(h0 + g.kh, g.H); ++h) {
      for (Index w = max(w0, Index{0}); w < min(w0 + g.kw, g.W); ++w) {
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
template <class Index>
__global__ void max_pool_backward_kernel(PoolGeometry<Index> g, const float* gy, const int32_t* argmax, float* gx) {
  const Index n = g.planes * g.H * g.W;
  for (Index k = grid_start<Index>(); k < n; k += grid_stride<Index>()) {
    const PlaneCoords<Index> at = plane_coords(k, g.H, g.W);
    Index p_begin, p_end, q_begin, q_end;
    windows_containing(at.row, g.pt, g.kh, g.sh, g.P, p_begin, p_end);
    windows_containing(at.col, g.pl, g.kw, g.sw, g.Q, q_begin, q_end);
    const Index out_plane = at.plane * g.P * g.Q;
    const int32_t me = static_cast<int32_t>(at.row * g.W + at.col);
    float acc = 0.0f;
    for (Index p = p_begin; p < p_end; ++p)
      for (Index q = q_begin; q < q_end; ++q)
        if (argmax[out_plane + p * g.Q + q] == me) acc += gy[out_plane + p * g.Q + q];
    gx[k] = acc;
  }
}

template <class Index>
__global__ void avg_pool_forward_kernel(PoolGeometry<Index> g, const float* x, float* y, bool count_include_pad) {
  const Index n = g.planes * g.P * g.Q;
  for (Index k = grid_start<Index>(); k < n; k += grid_stride<Index>()) {
    const PlaneCoords<Index> at = plane_coords(k, g.P, g.Q);
    const float* in = x + at.plane * g.H * g.W;
    Index h0 = at.row * g.sh - g.pt, w0 = at.col * g.sw - g.pl;
    float acc = 0.0f;
    for (Index h = max(h0, Index{0}); h < min(h0 + g.kh, g.H); ++h)
      for (Index w = max(w0, Index{0}); w < min(w0 + g.kw, g.W); ++w) acc += in[h * g.W + w];
    float divisor = avg_divisor(g, at.row, at.col, count_include_pad);
    y[k] = divisor > 0.0f ? acc / divisor : 0.0f;
  }
}

template <class Index>
__global__ void avg_pool_backward_kernel(PoolGeometry<Index> g, const float* gy, float* gx, bool count_include_pad) {
  const Index n = g.planes * g.H * g.W;
  for (Index k = grid_start<Index>(); k < n; k += grid_stride<Index>()) {
    const PlaneCoords<Index> at = plane_coords(k, g.H, g.W);
    Index p_begin, p_end, q_begin, q_end;
    windows_containing(at.row, g.pt, g.kh, g.sh, g.P, p_begin, p_end);
    windows_containing(at.col, g.pl, g.kw, g.sw, g.Q, q_begin, q_end);
    const float* g_plane = gy + at.plane * g.P * g.Q;
    float acc = 0.0f;
    for (Index p = p_begin; p < p_end; ++p)
      for (Index q = q_begin; q < q_end; ++q) acc += g_plane[p * g.Q + q] / avg_divisor(g, p, q, count_include_pad);
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

template <class Index>
__global__ void global_avg_pool_backward_kernel(Index n, Index HW, const float* gy, float* gx) {
  const float inv = 1.0f / static_cast<float>(HW);
  for (Index k = grid_start<Index>(); k < n; k += grid_stride<Index>()) gx[k] = gy[k / HW] * inv;
}

// The largest index a pooling kernel forms: the input or the output size.
int64_t largest_index(const Pool2dShape& s) { return s.N * s.C * std::max(s.H * s.W, s.P() * s.Q()); }

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t n = s.N * s.C * s.P() * s.Q();
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(largest_index(s), grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(max_pool_forward_kernel<Index>, grid, kThreads, geometry<Index>(s), x, y, argmax);
  });
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  const int64_t n = s.N * s.C * s.H * s.W;
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(largest_index(s), grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(max_pool_backward_kernel<Index>, grid, kThreads, geometry<Index>(s), gy, argmax, gx);
  });
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  const int64_t n = s.N * s.C * s.P() * s.Q();
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(largest_index(s), grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(avg_pool_forward_kernel<Index>, grid, kThreads, geometry<Index>(s), x, y, count_include_pad);
  });
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  const int64_t n = s.N * s.C * s.H * s.W;
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(largest_index(s), grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(avg_pool_backward_kernel<Index>, grid, kThreads, geometry<Index>(s), gy, gx,
                        count_include_pad);
  });
}

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
  if (planes <= 0) return;
  cuda_detail::launch(global_avg_pool_forward_kernel, grid_for(planes * 32), kThreads, planes, HW, x, y);
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
  const int64_t n = planes * HW;
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(n, grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(global_avg_pool_backward_kernel<Index>, grid, kThreads, static_cast<Index>(n),
                        static_cast<Index>(HW), gy, gx);
  });
}

}  // namespace nib::kernels::cuda
