#include "layers/conv2d.h"

#include <cmath>

#include "tensor/init.h"

namespace nib {

namespace {
Conv2dOptions square_options(int64_t stride, int64_t padding, int64_t groups) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.padding = Padding2d::same(padding);
  o.groups = groups;
  return o;
}

// "3" for 3x3, "2x1" otherwise.
std::string pair_str(int64_t h, int64_t w) { return h == w ? std::to_string(h) : str(h, "x", w); }
}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kh, int64_t kw, const Conv2dOptions& o, bool with_bias)
    : in_channels(in), out_channels(out), kernel_h(kh), kernel_w(kw), options(o) {
  NIB_CHECK(o.groups >= 1 && in % o.groups == 0 && out % o.groups == 0, "Conv2d: ", in, " in and ", out,
            " out channels are not divisible by groups=", o.groups);
  weight = register_parameter("weight", Tensor::empty({out, in / o.groups, kh, kw}));
  init::kaiming_uniform_(weight, std::sqrt(5.0f));  // PyTorch's default
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out}));
    float bound = 1.0f / std::sqrt(static_cast<float>(init::fan_in(weight)));
    init::uniform_(bias, -bound, bound);
  }
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups, bool bias)
    : Conv2d(in, out, kernel, kernel, square_options(stride, padding, groups), bias) {}

Tensor Conv2d::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4 && x.size(1) == in_channels, describe(), ": expected input [N, ", in_channels,
            ", H, W], got ", x.shape());
  return ops::conv2d(x, weight, bias, options);
}

std::string Conv2d::describe() const {
  const Padding2d& p = options.padding;
  std::string s = str("Conv2d(", in_channels, ", ", out_channels, ", kernel=", kernel_h, "x", kernel_w,
                      ", stride=", pair_str(options.stride_h, options.stride_w));
  if (options.padding_mode == PaddingMode::TfSame)
    s += ", padding=tf_same";
  else if (p.symmetric())
    s += str(", padding=", p.top, "x", p.left);
  else
    s += str(", padding=(", p.top, ",", p.bottom, ",", p.left, ",", p.right, ")");
  if (options.dilation_h != 1 || options.dilation_w != 1)
    s += str(", dilation=", pair_str(options.dilation_h, options.dilation_w));
  if (options.groups != 1) s += str(", groups=", options.groups);
  if (!bias.defined()) s += ", bias=false";
  return s + ")";
}

}  // namespace nib
