// Data movement on the CPU: strided 2-D copies, zero padding / cropping and
// batched transposes.
#include <algorithm>
#include <cstring>

#include "kernels/copy.h"

namespace nib::kernels::reference {

void copy2d(int64_t rows, int64_t cols, const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, sizeof(float) * static_cast<size_t>(cols));
}

// Output pixel (h, w) comes from input pixel (h - top, w - left) when that
// lies inside the input, and is 0 otherwise. With negative amounts the same
// rule crops: top = -1 makes output row 0 read input row 1.
void pad2d(int64_t planes, int64_t H, int64_t W, int64_t top, int64_t bottom, int64_t left, int64_t right,
           const float* x, float* y) {
  const int64_t Ho = H + top + bottom, Wo = W + left + right;
  // The output columns that read the input: [w_begin, w_end).
  const int64_t w_begin = std::max<int64_t>(left, 0), w_end = std::min(Wo, W + left);
#pragma omp parallel for if (planes * Ho * Wo > (1 << 16))
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t h = 0; h < Ho; ++h) {
      float* yr = y + (plane * Ho + h) * Wo;
      int64_t hx = h - top;
      if (hx < 0 || hx >= H || w_begin >= w_end) {
        std::fill(yr, yr + Wo, 0.0f);
        continue;
      }
      const float* xr = x + (plane * H + hx) * W;
      std::fill(yr, yr + w_begin, 0.0f);
      std::memcpy(yr + w_begin, xr + (w_begin - left), sizeof(float) * static_cast<size_t>(w_end - w_begin));
      std::fill(yr + w_end, yr + Wo, 0.0f);
    }
  }
}

void transpose2d(int64_t batches, int64_t rows, int64_t cols, const float* x, float* y) {
#pragma omp parallel for collapse(2) if (batches * rows * cols > (1 << 16))
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t r = 0; r < rows; ++r) y[(b * cols + c) * rows + r] = x[(b * rows + r) * cols + c];
}

}  // namespace nib::kernels::reference
