// The two small kernels cudnn:: max pooling needs besides cuDNN
// (pool_cudnn.cpp): cuDNN's max pooling returns only the maxima, while nib's
// MaxPoolBackwardFn works from the index of each window's winner.
#pragma once

#include "kernels/pool.h"

namespace nib::kernels::cuda_pool {

// argmax[n,c,p,q] = h*W + w of the first position (row-major within the
// window) where x equals y[n,c,p,q], or of the last NaN when y[n,c,p,q] is
// NaN: the winner, as the reference picks it.
void max_pool_argmax(const Pool2dShape& s, const float* x, const float* y, int32_t* argmax);
// gx = 0, then each gy[n,c,p,q] added at its winner argmax[n,c,p,q].
void max_pool_scatter(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx);

}  // namespace nib::kernels::cuda_pool
