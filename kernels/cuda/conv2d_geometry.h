// A Conv2dShape checked and converted to int for the CUDA kernels.
//
// Kernels index with int (fast division, fewer registers); make_geometry
// refuses tensors of 2^31 elements or more, so no index can overflow.
#pragma once

#include <climits>

#include "kernels/conv2d.h"
#include "util/error.h"

namespace nib::kernels::cuda_conv {

struct Geometry {
  int N, C, H, W;    // input
  int K, R, S;       // output channels, kernel
  int P, Q;          // output height, width
  int sh, sw;        // stride
  int pt, pl;        // padding at the top and left (bottom/right only shape P and Q)
  int dh, dw;        // dilation
  int groups, Cg, Kg;  // groups, input and output channels per group
};

inline Geometry make_geometry(const Conv2dShape& s, const char* op) {
  NIB_CHECK(s.N >= 0 && s.C > 0 && s.H > 0 && s.W > 0 && s.K > 0 && s.R > 0 && s.S > 0, op,
            ": sizes must be positive (N may be 0)");
  NIB_CHECK(s.stride_h > 0 && s.stride_w > 0 && s.dilation_h > 0 && s.dilation_w > 0, op,
            ": stride and dilation must be positive");
  NIB_CHECK(s.pad_top >= 0 && s.pad_bottom >= 0 && s.pad_left >= 0 && s.pad_right >= 0, op,
            ": padding must not be negative");
  NIB_CHECK(s.groups > 0 && s.C % s.groups == 0 && s.K % s.groups == 0, op, ": groups=", s.groups,
            " must divide C=", s.C, " and K=", s.K);
  NIB_CHECK(s.P() > 0 && s.Q() > 0, op, ": the kernel (dilated) is larger than the padded input");
  const long long x = s.N * s.C * s.H * s.W, y = s.N * s.K * s.P() * s.Q(), w = s.K * s.C_per_group() * s.R * s.S;
  NIB_CHECK(x < INT_MAX && y < INT_MAX && w < INT_MAX, op, ": tensors of 2^31 elements or more are not supported");
  return Geometry{static_cast<int>(s.N),       static_cast<int>(s.C),          static_cast<int>(s.H),
                  static_cast<int>(s.W),       static_cast<int>(s.K),          static_cast<int>(s.R),
                  static_cast<int>(s.S),       static_cast<int>(s.P()),        static_cast<int>(s.Q()),
                  static_cast<int>(s.stride_h), static_cast<int>(s.stride_w),  static_cast<int>(s.pad_top),
                  static_cast<int>(s.pad_left), static_cast<int>(s.dilation_h), static_cast<int>(s.dilation_w),
                  static_cast<int>(s.groups),  static_cast<int>(s.C_per_group()), static_cast<int>(s.K_per_group())};
}

}  // namespace nib::kernels::cuda_conv
