// cudnn:: softmax and log-softmax through cuDNN.
//
// A [rows, cols] matrix is described as [rows, cols, 1, 1] and normalised
// per instance (CUDNN_SOFTMAX_MODE_INSTANCE: over C*H*W = cols for each
// row). CUDNN_SOFTMAX_ACCURATE subtracts the row maximum first, as nib's
// kernels do; CUDNN_SOFTMAX_LOG gives log-softmax, and its backward takes
// the log-softmax output y, as SoftmaxBackwardFn passes.
//
// Cross-entropy has no cuDNN call (it is a fused log-softmax + gather);
// cudnn:: uses nib's cuda:: kernels for it.
#include "kernels/cuda/cudnn_util.h"
#include "kernels/softmax.h"

namespace nib::kernels::cudnn {

namespace {

cudnn_util::TensorDesc matrix_desc(int64_t rows, int64_t cols, const char* op) {
  return cudnn_util::TensorDesc(cudnn_util::to_int(rows, op), cudnn_util::to_int(cols, op), 1, 1);
}

cudnnSoftmaxAlgorithm_t algorithm(bool log) { return log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE; }

}  // namespace

void softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, bool log) {
  if (rows == 0 || cols == 0) return;
  auto desc = matrix_desc(rows, cols, "cudnn::softmax_forward");
  NIB_CUDNN_CHECK(cudnnSoftmaxForward(nib::cuda::cudnn(), algorithm(log), CUDNN_SOFTMAX_MODE_INSTANCE, cudnn_util::one(),
                                      desc, x, cudnn_util::zero(), desc, y));
}

void softmax_backward(int64_t rows, int64_t cols, const float* y, const float* gy, float* gx, bool log) {
  if (rows == 0 || cols == 0) return;
  auto desc = matrix_desc(rows, cols, "cudnn::softmax_backward");
  NIB_CUDNN_CHECK(cudnnSoftmaxBackward(nib::cuda::cudnn(), algorithm(log), CUDNN_SOFTMAX_MODE_INSTANCE,
                                       cudnn_util::one(), desc, y, desc, gy, cudnn_util::zero(), desc, gx));
}

void cross_entropy_forward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float smoothing,
                           float* loss_rows, float* probs) {
  cuda::cross_entropy_forward(rows, cols, logits, labels, smoothing, loss_rows, probs);
}

void cross_entropy_backward(int64_t rows, int64_t cols, const float* probs, const int32_t* labels, float smoothing,
                            const float* grad_loss, float* gx) {
  cuda::cross_entropy_backward(rows, cols, probs, labels, smoothing, grad_loss, gx);
}

}  // namespace nib::kernels::cudnn
