// Pooling over NCHW planes: max, average and global average.
//
// Windows start at p*stride - pad_top; padded positions never win a max and,
// for average pooling, count in the divisor only with count_include_pad
// (PyTorch's default is true; Keras/TF 'SAME' average pooling excludes them).
#pragma once

#include <cstdint>

namespace nib::kernels {

struct Pool2dShape {
  int64_t N = 1, C = 1, H = 1, W = 1;
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;

  int64_t P() const { return (H + pad_top + pad_bottom - kernel_h) / stride_h + 1; }
  int64_t Q() const { return (W + pad_left + pad_right - kernel_w) / stride_w + 1; }
};

// y [N,C,P,Q] overwritten. argmax (same size as y) receives, for each output,
// the index h*W + w of the winner within its input plane; it may be null when
// no backward will follow (evaluation).
using MaxPoolForwardFn = void(const Pool2dShape&, const float* x, float* y, int32_t* argmax);
// gx [N,C,H,W] overwritten: each gy goes to its window's winner.
using MaxPoolBackwardFn = void(const Pool2dShape&, const float* gy, const int32_t* argmax, float* gx);
using AvgPoolForwardFn = void(const Pool2dShape&, const float* x, float* y, bool count_include_pad);
using AvgPoolBackwardFn = void(const Pool2dShape&, const float* gy, float* gx, bool count_include_pad);
// Global average pooling: y[plane] = mean of x[plane, 0..HW); planes = N*C.
using GlobalAvgPoolForwardFn = void(int64_t planes, int64_t HW, const float* x, float* y);
using GlobalAvgPoolBackwardFn = void(int64_t planes, int64_t HW, const float* gy, float* gx);

#define NIB_DECLARE_POOL                          \
  MaxPoolForwardFn max_pool_forward;              \
  MaxPoolBackwardFn max_pool_backward;            \
  AvgPoolForwardFn avg_pool_forward;              \
  AvgPoolBackwardFn avg_pool_backward;            \
  GlobalAvgPoolForwardFn global_avg_pool_forward; \
  GlobalAvgPoolBackwardFn global_avg_pool_backward;

namespace reference { NIB_DECLARE_POOL }
namespace fast { NIB_DECLARE_POOL }
namespace cuda { NIB_DECLARE_POOL }
namespace cudnn { NIB_DECLARE_POOL }  // cuDNN (global pooling: cuDNN average pooling over the whole plane)
namespace dnnl { NIB_DECLARE_POOL }   // oneDNN on the CPU (built when nib finds libdnnl)
#undef NIB_DECLARE_POOL

}  // namespace nib::kernels
