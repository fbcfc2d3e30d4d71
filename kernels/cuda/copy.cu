// Block copies, spatial zero padding and batched transposes on CUDA. The spec is
// kernels/cpu/copy_reference.cpp.
//
// copy2d is cudaMemcpy2DAsync: the copy engine moves strided rows at full
// bandwidth with no kernel of ours. pad2d gives each *output* element a
// thread that either reads its source or writes 0, so the border needs no
// separate fill pass and negative amounts (crops) need no special case; it
// indexes in 32 bits below 2^31 elements (two 32-bit divisions per element
// instead of three 64-bit ones; expected to matter in this memory-bound
// kernel, not yet measured on a GPU).
// transpose2d also gives each output element a thread: writes are coalesced,
// reads are strided (a tiled shared-memory transpose would coalesce both; the
// NCHW <-> NHWC conversions it serves are rare and small).
// Speed: to be measured in bench/.
#include <algorithm>

#include "device/cuda/launch.cuh"
#include "kernels/copy.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

// Index: int32_t below 2^31 elements (with_index_type, launch.cuh), so that
// the two divisions per element are 32-bit ones.
template <class Index>
__global__ void pad2d_kernel(Index planes, Index H, Index W, Index Ho, Index Wo, Index top, Index left,
                             const float* x, float* y) {
  const Index n = planes * Ho * Wo;
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    const Index row = i / Wo, plane = row / Ho;  // row: plane * Ho + ho
    const Index wo = i - row * Wo, ho = row - plane * Ho;
    Index h = ho - top, w = wo - left;  // where this output comes from (a crop has negative top/left)
    bool inside = h >= 0 && h < H && w >= 0 && w < W;
    y[i] = inside ? x[(plane * H + h) * W + w] : 0.0f;
  }
}

__global__ void transpose2d_kernel(int64_t batches, int64_t rows, int64_t cols, const float* x, float* y) {
  const int64_t n = batches * rows * cols;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    int64_t r = i % rows, c = (i / rows) % cols, b = i / (rows * cols);  // y[b, c, r]
    y[i] = x[(b * rows + r) * cols + c];
  }
}

}  // namespace

void copy2d(int64_t rows, int64_t cols, const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
  if (rows <= 0 || cols <= 0) return;
  if (rows == 1 || (src_stride == cols && dst_stride == cols)) {  // one contiguous run (any strides when rows == 1)
    NIB_CUDA_CHECK(cudaMemcpyAsync(dst, src, sizeof(float) * rows * cols, cudaMemcpyDeviceToDevice,
                                   nib::cuda::stream()));
    return;
  }
  NIB_CUDA_CHECK(cudaMemcpy2DAsync(dst, sizeof(float) * dst_stride, src, sizeof(float) * src_stride,
                                   sizeof(float) * cols, rows, cudaMemcpyDeviceToDevice, nib::cuda::stream()));
}

void pad2d(int64_t planes, int64_t H, int64_t W, int64_t top, int64_t bottom, int64_t left, int64_t right,
           const float* x, float* y) {
  const int64_t Ho = H + top + bottom, Wo = W + left + right;
  const int64_t n = planes * Ho * Wo;
  if (Ho <= 0 || Wo <= 0 || n <= 0) return;
  const unsigned grid = grid_for(n);
  with_index_type(fits_int32(std::max(n, planes * H * W), grid, kThreads), [&]<class Index>() {
    auto i = [](int64_t v) { return static_cast<Index>(v); };
    cuda_detail::launch(pad2d_kernel<Index>, grid, kThreads, i(planes), i(H), i(W), i(Ho), i(Wo), i(top), i(left), x,
                        y);
  });
}

void transpose2d(int64_t batches, int64_t rows, int64_t cols, const float* x, float* y) {
  const int64_t n = batches * rows * cols;
  if (n <= 0) return;
  cuda_detail::launch(transpose2d_kernel, grid_for(n), kThreads, batches, rows, cols, x, y);
}

}  // namespace nib::kernels::cuda
