// Conv2dProblem::make: the one place a convolution is checked.
#include "kernels/conv2d.h"

#include <algorithm>
#include <climits>
#include <string>
#include <tuple>

#include "util/error.h"

namespace nib {

std::pair<int64_t, int64_t> tf_same_padding(int64_t size, int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t out = (size + stride - 1) / stride;
  int64_t effective_kernel = (kernel - 1) * dilation + 1;
  int64_t total = std::max<int64_t>((out - 1) * stride + effective_kernel - size, 0);
  return {total / 2, total - total / 2};  // the odd pixel goes after, as in TensorFlow
}

namespace kernels {

namespace {
std::string shape_str(const std::array<int64_t, 4>& d) {
  return str("[", d[0], ", ", d[1], ", ", d[2], ", ", d[3], "]");
}
}  // namespace

Conv2dProblem Conv2dProblem::make(const std::array<int64_t, 4>& x, const std::array<int64_t, 4>& w,
                                  const Conv2dOptions& o) {
  NIB_CHECK(o.stride_h >= 1 && o.stride_w >= 1, "conv2d: stride must be at least 1, got ", o.stride_h, "x",
            o.stride_w);
  NIB_CHECK(o.dilation_h >= 1 && o.dilation_w >= 1, "conv2d: dilation must be at least 1, got ", o.dilation_h, "x",
            o.dilation_w);
  NIB_CHECK(o.groups >= 1, "conv2d: groups must be at least 1, got ", o.groups);
  NIB_CHECK(x[0] >= 0 && x[1] >= 1 && x[2] >= 1 && x[3] >= 1, "conv2d: input ", shape_str(x),
            " must have at least one channel, row and column (N may be 0)");
  NIB_CHECK(w[0] >= 1 && w[1] >= 1, "conv2d: weight ", shape_str(w),
            " must have at least one output and one input channel");
  NIB_CHECK(w[2] >= 1 && w[3] >= 1, "conv2d: empty kernel ", shape_str(w));

  Conv2dProblem s;
  s.N = x[0], s.C = x[1], s.H = x[2], s.W = x[3];
  s.K = w[0], s.R = w[2], s.S = w[3];
  s.stride_h = o.stride_h, s.stride_w = o.stride_w;
  s.dilation_h = o.dilation_h, s.dilation_w = o.dilation_w;
  s.groups = o.groups;
  Padding2d pad = o.padding;
  if (o.padding_mode == PaddingMode::TfSame) {
    std::tie(pad.top, pad.bottom) = tf_same_padding(s.H, s.R, s.stride_h, s.dilation_h);
    std::tie(pad.left, pad.right) = tf_same_padding(s.W, s.S, s.stride_w, s.dilation_w);
  }
  NIB_CHECK(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0,
            "conv2d: padding must not be negative, got (top ", pad.top, ", bottom ", pad.bottom, ", left ", pad.left,
            ", right ", pad.right, ")");
  s.pad_top = pad.top, s.pad_bottom = pad.bottom, s.pad_left = pad.left, s.pad_right = pad.right;

  NIB_CHECK(s.C % s.groups == 0, "conv2d: input has ", s.C, " channels, not divisible by groups=", s.groups);
  NIB_CHECK(s.K % s.groups == 0, "conv2d: weight ", shape_str(w), " has ", s.K,
            " output channels, not divisible by groups=", s.groups);
  NIB_CHECK(w[1] == s.C / s.groups, "conv2d: weight ", shape_str(w), " expects ", w[1] * s.groups,
            " input channels (", w[1], " per group x groups=", s.groups, ") but the input ", shape_str(x), " has ",
            s.C);
  s.C_per_group = s.C / s.groups;
  s.K_per_group = s.K / s.groups;

  const int64_t reach_h = s.dilation_h * (s.R - 1) + 1, reach_w = s.dilation_w * (s.S - 1) + 1;
  const int64_t padded_h = s.H + pad.top + pad.bottom, padded_w = s.W + pad.left + pad.right;
  NIB_CHECK(padded_h >= reach_h && padded_w >= reach_w, "conv2d: kernel ", s.R, "x", s.S,
            (s.dilation_h > 1 || s.dilation_w > 1 ? str(" (dilated to ", reach_h, "x", reach_w, ")") : ""),
            " is larger than the padded input ", padded_h, "x", padded_w, " (input ", shape_str(x), ")");
  s.P = (padded_h - reach_h) / s.stride_h + 1;
  s.Q = (padded_w - reach_w) / s.stride_w + 1;
  return s;
}

bool Conv2dProblem::fits_int32() const {
  const long double x = static_cast<long double>(N) * C * H * W, y = static_cast<long double>(N) * K * P * Q,
                    w = static_cast<long double>(K) * C_per_group * R * S;
  return x < INT_MAX && y < INT_MAX && w < INT_MAX;
}

}  // namespace kernels
}  // namespace nib
