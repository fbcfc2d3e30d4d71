// Softmax and log-softmax over the last dimension of a [rows, cols] view, and
// cross-entropy with integer labels fused with log-softmax (one pass, no
// log(0)), with optional label smoothing:
//
//   target = (1 - smoothing) * onehot(label) + smoothing / cols
//   loss_r = -sum_c target_c * log_softmax(x_r)_c
#pragma once

#include <cstdint>

namespace nib::kernels {

// y = softmax(x) per row (or log_softmax with log = true).
using SoftmaxForwardFn = void(int64_t rows, int64_t cols, const float* x, float* y, bool log);
// gx from the forward output y and gy (overwritten).
using SoftmaxBackwardFn = void(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx, bool log);
// loss_rows [rows] receives each row's loss; probs [rows, cols] the softmax,
// kept for the backward pass. Labels must lie in [0, cols) (checked by the op).
using CrossEntropyForwardFn = void(int64_t rows, int64_t cols, const float* logits, const int32_t* labels,
                                   float smoothing, float* loss_rows, float* probs);
// gx = (probs - target) * grad_loss[0] / rows: the gradient of the *mean*
// loss. grad_loss lives on the device, so no host round trip is needed.
using CrossEntropyBackwardFn = void(int64_t rows, int64_t cols, const float* probs, const int32_t* labels,
                                    float smoothing, const float* grad_loss, float* gx);

#define NIB_DECLARE_SOFTMAX                   \
  SoftmaxForwardFn softmax_forward;           \
  SoftmaxBackwardFn softmax_backward;         \
  CrossEntropyForwardFn cross_entropy_forward; \
  CrossEntropyBackwardFn cross_entropy_backward;

namespace reference { NIB_DECLARE_SOFTMAX }
namespace fast { NIB_DECLARE_SOFTMAX }
namespace cuda { NIB_DECLARE_SOFTMAX }
namespace cudnn { NIB_DECLARE_SOFTMAX }  // cuDNN softmax (forward/backward only)
#undef NIB_DECLARE_SOFTMAX

}  // namespace nib::kernels
