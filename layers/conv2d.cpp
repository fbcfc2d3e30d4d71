#include "layers/conv2d.h"

#include <algorithm>
#include <cmath>

#include "tensor/init.h"

namespace nib {

Conv2d::Conv2d(const Conv2dConfig& c) : config(c) {
  NIB_CHECK(c.groups >= 1 && c.in_channels % c.groups == 0 && c.out_channels % c.groups == 0, "Conv2d: ",
            c.in_channels, " in and ", c.out_channels, " out channels are not divisible by groups=", c.groups);
  weight = register_parameter("weight", Tensor::empty({c.out_channels, c.in_channels / c.groups, c.kernel_h,
                                                       c.kernel_w}));
  init::kaiming_uniform_(weight, std::sqrt(5.0f));  // PyTorch's default
  if (c.bias) {
    bias = register_parameter("bias", Tensor::empty({c.out_channels}));
    float bound = 1.0f / std::sqrt(static_cast<float>(init::fan_in(weight)));
    init::uniform_(bias, -bound, bound);
  }
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups, bool bias)
    : Conv2d(Conv2dConfig{in, out, kernel, kernel, stride, ops::Padding2d::same(padding), PaddingMode::Explicit, 1,
                          groups, bias}) {}

std::pair<int64_t, int64_t> tf_same_padding(int64_t size, int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t out = (size + stride - 1) / stride;
  int64_t effective_kernel = (kernel - 1) * dilation + 1;
  int64_t total = std::max<int64_t>((out - 1) * stride + effective_kernel - size, 0);
  return {total / 2, total - total / 2};  // the odd pixel goes after, as in TensorFlow
}

ops::Padding2d Conv2d::padding_for(int64_t H, int64_t W) const {
  if (config.padding_mode == PaddingMode::Explicit) return config.padding;
  auto [top, bottom] = tf_same_padding(H, config.kernel_h, config.stride, config.dilation);
  auto [left, right] = tf_same_padding(W, config.kernel_w, config.stride, config.dilation);
  return {top, bottom, left, right};
}

Tensor Conv2d::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4 && x.size(1) == config.in_channels, describe(), ": expected input [N, ",
            config.in_channels, ", H, W], got ", x.shape());
  ops::Conv2dOptions options;
  options.stride_h = options.stride_w = config.stride;
  options.padding = padding_for(x.size(2), x.size(3));
  options.dilation_h = options.dilation_w = config.dilation;
  options.groups = config.groups;
  return ops::conv2d(x, weight, bias, options);
}

std::string Conv2d::describe() const {
  std::string s = str("Conv2d(", config.in_channels, ", ", config.out_channels, ", kernel=", config.kernel_h, "x",
                      config.kernel_w, ", stride=", config.stride);
  if (config.padding_mode == PaddingMode::TfSame)
    s += ", padding=tf_same";
  else if (config.padding.symmetric())
    s += str(", padding=", config.padding.top, "x", config.padding.left);
  else
    s += str(", padding=(", config.padding.top, ",", config.padding.bottom, ",", config.padding.left, ",",
             config.padding.right, ")");
  if (config.dilation != 1) s += str(", dilation=", config.dilation);
  if (config.groups != 1) s += str(", groups=", config.groups);
  if (!config.bias) s += ", bias=false";
  return s + ")";
}

}  // namespace nib
