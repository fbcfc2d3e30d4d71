// Conv2d: PyTorch's layer (weight [out, in/groups, kh, kw], optional bias).
// What the convolution is (stride, padding — per side or TensorFlow's 'SAME',
// which pretrained TensorFlow/Keras networks need — dilation, groups) is a
// Conv2dOptions (kernels/conv2d.h), passed through to ops::conv2d as is.
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_h, int64_t kernel_w, const Conv2dOptions& options,
         bool bias = true);
  // The common square case: Conv2d(in, out, kernel, stride, padding).
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t groups = 1,
         bool bias = true);

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  int64_t in_channels, out_channels, kernel_h, kernel_w;
  Conv2dOptions options;
  Tensor weight, bias;
};

}  // namespace nib
