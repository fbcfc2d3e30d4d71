// dnnl::conv2d_*: the convolution passes through oneDNN, Intel's library of
// deep-learning primitives for CPUs (Debian's libdnnl-dev; the engine of
// PyTorch's and TensorFlow's CPU convolutions). It is here as the library
// baseline that nib's hand-written CPU kernels (kernels/cpu/conv2d_fast.cpp)
// race in `nib bench cpu`, as cuDNN is on the GPU
// (kernels/cuda/conv2d_cudnn.cpp). Selected only when asked:
// `--kernels conv2d=dnnl`, NIB_KERNELS=dnnl, kernels::Use("conv2d", "dnnl").
//
// Layout. nib's tensors are NCHW and stay so: oneDNN is given its plain
// formats over nib's own buffers, nchw for x and y, oihw (goihw, with the
// groups as a leading dimension, when groups > 1) for the weight, x for the
// bias. Nothing is copied or reordered. oneDNN's fastest CPU kernels want
// blocked layouts (nChw16c on AVX-512); asking for them (format_tag::any)
// would add a reorder of x and y on every call, which nib's call-by-call
// interface cannot amortise the way a whole oneDNN network does; with plain
// formats oneDNN picks its im2col + GEMM convolution ("gemm:jit"), much as
// nib's fast path is, which makes it a like-for-like race.
//
// Padding per side (TensorFlow's 'SAME') is oneDNN's own padding_l /
// padding_r: no explicit copy, unlike cuDNN. oneDNN's dilation counts the
// gaps (nib's dilation - 1). algorithm::convolution_direct, never Winograd:
// the same arithmetic as the reference, up to summation order.
//
// Caching. Descriptors and primitives are made on a shape's first call and
// kept per problem (dnnl_util::PlanCache): the forward with and without
// bias, backward data, backward weights with and without the bias gradient,
// each made on its first use. Per call only the memory objects that wrap
// nib's pointers are made.
#include <cstring>
#include <memory>

#include "kernels/conv2d.h"
#include "kernels/cpu/dnnl_util.h"

namespace nib::kernels::dnnl {

namespace {

namespace dn = ::dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

struct ConvPlan {
  dn::memory::desc x, w, b, y;
  dn::memory::dims strides, dilates, pad_l, pad_r;
  dn::convolution_forward::primitive_desc hint;  // forward with bias: the backward passes' hint
  dn::primitive forward_bias, forward_plain, backward_data, backward_weight_bias, backward_weight_plain;

  explicit ConvPlan(const Conv2dProblem& s)
      : x({s.N, s.C, s.H, s.W}, dt::f32, tag::nchw),
        w(s.groups == 1 ? dn::memory::desc({s.K, s.C, s.R, s.S}, dt::f32, tag::oihw)
                        : dn::memory::desc({s.groups, s.K_per_group, s.C_per_group, s.R, s.S}, dt::f32, tag::goihw)),
        b({s.K}, dt::f32, tag::x),
        y({s.N, s.K, s.P, s.Q}, dt::f32, tag::nchw),
        strides{s.stride_h, s.stride_w},
        dilates{s.dilation_h - 1, s.dilation_w - 1},
        pad_l{s.pad_top, s.pad_left},
        pad_r{s.pad_bottom, s.pad_right},
        hint(forward_desc(true), dnnl_util::engine()) {}

  dn::convolution_forward::desc forward_desc(bool with_bias) const {
    return dn::convolution_forward::desc(dn::prop_kind::forward_training, dn::algorithm::convolution_direct, x, w,
                                         with_bias ? b : dn::memory::desc(), y, strides, dilates, pad_l, pad_r);
  }
  const dn::primitive& forward(bool with_bias) {
    dn::primitive& p = with_bias ? forward_bias : forward_plain;
    if (!p) p = dn::convolution_forward(with_bias ? hint : dn::convolution_forward::primitive_desc(forward_desc(false), dnnl_util::engine()));
    return p;
  }
  const dn::primitive& data() {
    if (!backward_data) {
      dn::convolution_backward_data::desc d(dn::algorithm::convolution_direct, x, w, y, strides, dilates, pad_l, pad_r);
      backward_data = dn::convolution_backward_data(dn::convolution_backward_data::primitive_desc(d, dnnl_util::engine(), hint));
    }
    return backward_data;
  }
  const dn::primitive& weight(bool with_bias) {
    dn::primitive& p = with_bias ? backward_weight_bias : backward_weight_plain;
    if (!p) {
      auto d = with_bias ? dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, x, w, b, y,
                                                                 strides, dilates, pad_l, pad_r)
                         : dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, x, w, y, strides,
                                                                 dilates, pad_l, pad_r);
      p = dn::convolution_backward_weights(dn::convolution_backward_weights::primitive_desc(d, dnnl_util::engine(), hint));
    }
    return p;
  }
};

using Cache = dnnl_util::PlanCache<ConvPlan, 16>;

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: its primitives belong to the never-destroyed engine
  return *c;
}

// The plan of s; the caller holds cache().mutex().
ConvPlan& plan_for(const Conv2dProblem& s) {
  return cache().get({s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride_h, s.stride_w, s.pad_top, s.pad_bottom, s.pad_left,
                      s.pad_right, s.dilation_h, s.dilation_w, s.groups},
                     [&] { return std::make_unique<ConvPlan>(s); });
}

}  // namespace

void conv2d_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  if (s.N == 0) return;
  try {
    std::lock_guard<std::mutex> lock(cache().mutex());
    ConvPlan& plan = plan_for(s);
    std::unordered_map<int, dn::memory> args = {{DNNL_ARG_SRC, dnnl_util::wrap(plan.x, x)},
                                                {DNNL_ARG_WEIGHTS, dnnl_util::wrap(plan.w, w)},
                                                {DNNL_ARG_DST, dnnl_util::wrap(plan.y, y)}};
    if (bias) args[DNNL_ARG_BIAS] = dnnl_util::wrap(plan.b, bias);
    dnnl_util::execute(plan.forward(bias != nullptr), args);
  } catch (const dn::error& e) {
    dnnl_util::fail("dnnl::conv2d_forward", e);
  }
}

void conv2d_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  if (s.N == 0) return;
  try {
    std::lock_guard<std::mutex> lock(cache().mutex());
    ConvPlan& plan = plan_for(s);
    dnnl_util::execute(plan.data(), {{DNNL_ARG_DIFF_DST, dnnl_util::wrap(plan.y, gy)},
                                     {DNNL_ARG_WEIGHTS, dnnl_util::wrap(plan.w, w)},
                                     {DNNL_ARG_DIFF_SRC, dnnl_util::wrap(plan.x, gx)}});
  } catch (const dn::error& e) {
    dnnl_util::fail("dnnl::conv2d_backward_data", e);
  }
}

void conv2d_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw, float* gbias) {
  if (s.N == 0) {  // an empty batch: zero gradients
    std::memset(gw, 0, sizeof(float) * size_t(s.K * s.C_per_group * s.R * s.S));
    if (gbias) std::memset(gbias, 0, sizeof(float) * size_t(s.K));
    return;
  }
  try {
    std::lock_guard<std::mutex> lock(cache().mutex());
    ConvPlan& plan = plan_for(s);
    std::unordered_map<int, dn::memory> args = {{DNNL_ARG_SRC, dnnl_util::wrap(plan.x, x)},
                                                {DNNL_ARG_DIFF_DST, dnnl_util::wrap(plan.y, gy)},
                                                {DNNL_ARG_DIFF_WEIGHTS, dnnl_util::wrap(plan.w, gw)}};
    if (gbias) args[DNNL_ARG_DIFF_BIAS] = dnnl_util::wrap(plan.b, gbias);
    dnnl_util::execute(plan.weight(gbias != nullptr), args);
  } catch (const dn::error& e) {
    dnnl_util::fail("dnnl::conv2d_backward_weight", e);
  }
}

}  // namespace nib::kernels::dnnl
