// softmax and log_softmax over the last dimension, and the mean
// cross-entropy loss of logits against integer labels.
#include "kernels/softmax.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<SoftmaxForwardFn> softmax_forward_impls("softmax", {
    {"reference", DeviceType::CPU, reference::softmax_forward},
    {"fast", DeviceType::CPU, fast::softmax_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::softmax_forward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::softmax_forward},
#endif
});
const ImplTable<SoftmaxBackwardFn> softmax_backward_impls("softmax", {
    {"reference", DeviceType::CPU, reference::softmax_backward},
    {"fast", DeviceType::CPU, fast::softmax_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::softmax_backward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::softmax_backward},
#endif
});
// cuDNN has no fused cross-entropy: on CUDA it is always nib's own kernel.
const ImplTable<CrossEntropyForwardFn> cross_entropy_forward_impls("softmax", {
    {"reference", DeviceType::CPU, reference::cross_entropy_forward},
    {"fast", DeviceType::CPU, fast::cross_entropy_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::cross_entropy_forward},
#endif
});
const ImplTable<CrossEntropyBackwardFn> cross_entropy_backward_impls("softmax", {
    {"reference", DeviceType::CPU, reference::cross_entropy_backward},
    {"fast", DeviceType::CPU, fast::cross_entropy_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::cross_entropy_backward},
#endif
});

Tensor softmax_over_last_dim(const Tensor& x, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_defined(x, name, "input");
  check_f32(x, name);
  NIB_CHECK(x.dim() >= 1 && x.size(-1) > 0, name, ": needs a non-empty last dimension, got ", x.shape());
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  Tensor y = Tensor::empty(x.shape(), x.device());
  softmax_forward_impls.pick(x.device(), "softmax forward ", x.shape())(rows, cols, x.data(), y.data(), log);
  if (autograd::needs_graph({&x})) {
    // Both backwards need only the output (see kernels/cpu/softmax_reference.cpp).
    autograd::record(y, name, {x}, [rows, cols, log, saved_y = y.detach()](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(saved_y.shape(), gy.device());
      softmax_backward_impls.pick(gy.device(), "softmax backward ", gy.shape())(rows, cols, saved_y.data(), gy.data(), gx.data(), log);
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

// A label outside [0, classes) would make the CPU kernels read out of
// bounds, so it is caught here. CUDA labels are not: copying them to the
// host would wait for the whole forward pass on every call. The CUDA kernel
// checks them itself (never indexing with a bad one) and the same message
// is raised at the first wait for the GPU after the call, loss.item()
// typically (kernels/cuda/softmax.cu).
void check_labels(const Tensor& labels, int64_t classes) {
  if (!labels.device().is_cpu()) return;
  const int32_t* l = labels.data_as<int32_t>();
  for (int64_t i = 0; i < labels.numel(); ++i)
    NIB_CHECK(l[i] >= 0 && l[i] < classes, "cross_entropy: label ", l[i], " at position ", i,
              " is outside [0, ", classes, ")");
}

}  // namespace

Tensor softmax(const Tensor& x) { return softmax_over_last_dim(x, false); }
Tensor log_softmax(const Tensor& x) { return softmax_over_last_dim(x, true); }

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, float label_smoothing) {
  constexpr const char* kOp = "cross_entropy";
  check_defined(logits, kOp, "logits");
  check_defined(labels, kOp, "labels");
  check_f32(logits, kOp);
  check_same_device(logits, labels, kOp);
  NIB_CHECK(logits.dim() == 2 && logits.size(0) > 0 && logits.size(1) > 0, kOp,
            ": logits must be [N, classes] with N, classes > 0, got ", logits.shape());
  NIB_CHECK(labels.dtype() == DType::I32, kOp, ": labels must be int32, got ", dtype_name(labels.dtype()));
  NIB_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), kOp, ": labels ", labels.shape(),
            " do not match logits ", logits.shape(), " (expected [", logits.size(0), "])");
  NIB_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, kOp, ": label_smoothing ", label_smoothing,
            " is outside [0, 1]");
  const int64_t rows = logits.size(0), cols = logits.size(1);
  check_labels(labels, cols);

  Tensor loss_rows = Tensor::empty({rows}, logits.device());
  Tensor probs = Tensor::empty(logits.shape(), logits.device());
  cross_entropy_forward_impls.pick(logits.device(), "cross entropy forward ", logits.shape())(rows, cols, logits.data(), labels.data_as<int32_t>(),
                                                    label_smoothing, loss_rows.data(), probs.data());
  Tensor loss = mean(loss_rows);  // loss_rows is not tracked, so this records nothing
  if (autograd::needs_graph({&logits})) {
    autograd::record(loss, kOp, {logits},
                     [rows, cols, label_smoothing, probs, labels](const Tensor& gy, const std::vector<bool>&) {
                       Tensor gx = Tensor::empty({rows, cols}, gy.device());
                       cross_entropy_backward_impls.pick(gy.device(), "cross entropy backward ", gy.shape())(rows, cols, probs.data(),
                                                                      labels.data_as<int32_t>(), label_smoothing,
                                                                      gy.data(), gx.data());
                       return std::vector<Tensor>{gx};
                     });
  }
  return loss;
}

}  // namespace nib::ops
