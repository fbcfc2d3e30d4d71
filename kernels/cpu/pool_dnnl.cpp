// dnnl:: pooling through oneDNN, Intel's library of deep-learning primitives
// for CPUs (Debian's libdnnl-dev). It is here as the library baseline that
// nib's hand-written CPU kernels (kernels/cpu/pool_fast.cpp) race in
// `nib bench cpu`, as cuDNN is on the GPU (kernels/cuda/pool_cudnn.cpp).
// Selected only when asked: `--kernels pool=dnnl`, NIB_KERNELS=dnnl.
//
// Layout. x and y keep nib's NCHW: oneDNN is given its plain nchw format
// over nib's buffers, no reorder. Padding per side (TensorFlow's 'SAME') is
// oneDNN's padding_l / padding_r; padded positions never win a max, and the
// two average modes are oneDNN's pooling_avg_include_padding (divisor
// kernel_h * kernel_w: nib has no ceil mode, so a window never reaches past
// the padded input) and pooling_avg_exclude_padding.
//
// Max pooling and argmax. nib's backward interface passes the winner of each
// window as its index h*W + w in the input plane (kernels/pool.h). oneDNN's
// forward-training max pooling writes a workspace instead: per output, the
// winner's offset kh*kernel_w + kw inside its window, in y's layout (u8, or
// s32 for large windows). With plain nchw that workspace is plain
// too, so the forward converts it to nib's argmax and the backward converts
// the argmax back and runs oneDNN's max-pooling backward. Should oneDNN
// ever describe its workspace otherwise (a future version, another layout),
// max pooling with argmax runs nib's fast:: kernels instead of guessing at
// it. Without argmax (evaluation) the forward-inference primitive runs,
// which writes no workspace.
//
// oneDNN 2.6.3 runs plain-layout max pooling with a workspace through its
// jit kernels for small planes, but through a simple C++ loop
// ("simple_nchw") for large ones (VGG's 224x224): there nib's fast kernels
// are several times faster (bench/results/cpu_ops_dnnl.md).
//
// Global average pooling is average pooling of one [1, planes, 1, HW] image
// with a 1 x HW window.
//
// Caching as in conv2d_dnnl.cpp: per shape and mode, primitives made on
// first use (dnnl_util::PlanCache).
#include <memory>
#include <vector>

#include "kernels/cpu/dnnl_util.h"
#include "kernels/pool.h"

namespace nib::kernels::dnnl {

namespace {

namespace dn = ::dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

enum Mode : int64_t { kMax, kAvgIncludePad, kAvgExcludePad };

dn::algorithm algorithm_of(Mode mode) {
  switch (mode) {
    case kMax: return dn::algorithm::pooling_max;
    case kAvgIncludePad: return dn::algorithm::pooling_avg_include_padding;
    default: return dn::algorithm::pooling_avg_exclude_padding;
  }
}

struct PoolPlan {
  Pool2dShape s;
  dn::memory::desc x, y;
  dn::memory::dims strides, kernel, pad_l, pad_r;
  dn::pooling_forward::primitive_desc hint;  // forward training: the backward's hint, and its workspace
  dn::primitive forward_training, forward_inference, backward;
  // Max pooling: whether the workspace is the plain per-window offset described at the top.
  bool plain_workspace = false;
  dt workspace_type = dt::u8;

  PoolPlan(const Pool2dShape& shape, Mode mode)
      : s(shape),
        x({s.N, s.C, s.H, s.W}, dt::f32, tag::nchw),
        y({s.N, s.C, s.P(), s.Q()}, dt::f32, tag::nchw),
        strides{s.stride_h, s.stride_w},
        kernel{s.kernel_h, s.kernel_w},
        pad_l{s.pad_top, s.pad_left},
        pad_r{s.pad_bottom, s.pad_right},
        hint(desc(dn::prop_kind::forward_training, mode), dnnl_util::engine()) {
    if (mode == kMax) {
      const dn::memory::desc ws = hint.workspace_desc();
      for (dt type : {dt::u8, dt::s32})
        if (ws == dn::memory::desc({s.N, s.C, s.P(), s.Q()}, type, tag::nchw)) {
          plain_workspace = true;
          workspace_type = type;
        }
    }
    forward_training = dn::pooling_forward(hint);
    backward = dn::pooling_backward(dn::pooling_backward::primitive_desc(
        dn::pooling_backward::desc(algorithm_of(mode), x, y, strides, kernel, pad_l, pad_r), dnnl_util::engine(),
        hint));
  }

  dn::pooling_forward::desc desc(dn::prop_kind prop, Mode mode) const {
    return dn::pooling_forward::desc(prop, algorithm_of(mode), x, y, strides, kernel, pad_l, pad_r);
  }
  const dn::primitive& inference(Mode mode) {
    if (!forward_inference)
      forward_inference = dn::pooling_forward(
          dn::pooling_forward::primitive_desc(desc(dn::prop_kind::forward_inference, mode), dnnl_util::engine()));
    return forward_inference;
  }
  int64_t outputs() const { return s.N * s.C * s.P() * s.Q(); }
};

using Cache = dnnl_util::PlanCache<PoolPlan, 13>;

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: its primitives belong to the never-destroyed engine
  return *c;
}

// The plan of (s, mode); the caller holds cache().mutex().
PoolPlan& plan_for(const Pool2dShape& s, Mode mode) {
  return cache().get({s.N, s.C, s.H, s.W, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.pad_top, s.pad_bottom,
                      s.pad_left, s.pad_right, mode},
                     [&] { return std::make_unique<PoolPlan>(s, mode); });
}

// oneDNN's workspace (offset in the window) -> nib's argmax (index in the plane), and back.
template <class T>
void workspace_to_argmax(const Pool2dShape& s, const T* ws, int32_t* argmax) {
  const int64_t P = s.P(), Q = s.Q();
#pragma omp parallel for
  for (int64_t plane = 0; plane < s.N * s.C; ++plane)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t i = (plane * P + p) * Q + q, offset = static_cast<int64_t>(ws[i]);
        const int64_t h = p * s.stride_h - s.pad_top + offset / s.kernel_w;
        const int64_t w = q * s.stride_w - s.pad_left + offset % s.kernel_w;
        argmax[i] = static_cast<int32_t>(h * s.W + w);
      }
}
template <class T>
void argmax_to_workspace(const Pool2dShape& s, const int32_t* argmax, T* ws) {
  const int64_t P = s.P(), Q = s.Q();
#pragma omp parallel for
  for (int64_t plane = 0; plane < s.N * s.C; ++plane)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t i = (plane * P + p) * Q + q, index = argmax[i];
        const int64_t kh = index / s.W - (p * s.stride_h - s.pad_top);
        const int64_t kw = index % s.W - (q * s.stride_w - s.pad_left);
        ws[i] = static_cast<T>(kh * s.kernel_w + kw);
      }
}

// A workspace buffer of this thread, at least `bytes` long.
void* workspace(size_t bytes) {
  thread_local std::vector<unsigned char> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

Mode avg_mode(bool count_include_pad) { return count_include_pad ? kAvgIncludePad : kAvgExcludePad; }

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  if (s.N * s.C == 0) return;
  dnnl_util::locked(cache(), "dnnl::max_pool_forward", [&] {
    PoolPlan& plan = plan_for(s, kMax);
    if (!argmax) {
      dnnl_util::execute(plan.inference(kMax), {{DNNL_ARG_SRC, dnnl_util::wrap(plan.x, x)},
                                                {DNNL_ARG_DST, dnnl_util::wrap(plan.y, y)}});
      return;
    }
    if (!plan.plain_workspace) return fast::max_pool_forward(s, x, y, argmax);
    const dn::memory::desc ws_md = plan.hint.workspace_desc();
    void* ws = workspace(ws_md.get_size());
    dnnl_util::execute(plan.forward_training, {{DNNL_ARG_SRC, dnnl_util::wrap(plan.x, x)},
                                               {DNNL_ARG_DST, dnnl_util::wrap(plan.y, y)},
                                               {DNNL_ARG_WORKSPACE, dnnl_util::wrap(ws_md, ws)}});
    if (plan.workspace_type == dt::u8)
      workspace_to_argmax(s, static_cast<const uint8_t*>(ws), argmax);
    else
      workspace_to_argmax(s, static_cast<const int32_t*>(ws), argmax);
  });
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  if (s.N * s.C == 0) return;
  dnnl_util::locked(cache(), "dnnl::max_pool_backward", [&] {
    PoolPlan& plan = plan_for(s, kMax);
    if (!plan.plain_workspace) return fast::max_pool_backward(s, gy, argmax, gx);
    const dn::memory::desc ws_md = plan.hint.workspace_desc();
    void* ws = workspace(ws_md.get_size());
    if (plan.workspace_type == dt::u8)
      argmax_to_workspace(s, argmax, static_cast<uint8_t*>(ws));
    else
      argmax_to_workspace(s, argmax, static_cast<int32_t*>(ws));
    dnnl_util::execute(plan.backward, {{DNNL_ARG_DIFF_DST, dnnl_util::wrap(plan.y, gy)},
                                       {DNNL_ARG_WORKSPACE, dnnl_util::wrap(ws_md, ws)},
                                       {DNNL_ARG_DIFF_SRC, dnnl_util::wrap(plan.x, gx)}});
  });
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  if (s.N * s.C == 0) return;
  dnnl_util::locked(cache(), "dnnl::avg_pool_forward", [&] {
    const Mode mode = avg_mode(count_include_pad);
    PoolPlan& plan = plan_for(s, mode);
    dnnl_util::execute(plan.inference(mode), {{DNNL_ARG_SRC, dnnl_util::wrap(plan.x, x)},
                                              {DNNL_ARG_DST, dnnl_util::wrap(plan.y, y)}});
  });
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  if (s.N * s.C == 0) return;
  dnnl_util::locked(cache(), "dnnl::avg_pool_backward", [&] {
    PoolPlan& plan = plan_for(s, avg_mode(count_include_pad));
    dnnl_util::execute(plan.backward, {{DNNL_ARG_DIFF_DST, dnnl_util::wrap(plan.y, gy)},
                                       {DNNL_ARG_DIFF_SRC, dnnl_util::wrap(plan.x, gx)}});
  });
}

namespace {
// Global average pooling as average pooling of one [1, planes, 1, HW] image.
Pool2dShape global_shape(int64_t planes, int64_t HW) {
  Pool2dShape s;
  s.N = 1, s.C = planes, s.H = 1, s.W = HW;
  s.kernel_h = 1, s.kernel_w = HW, s.stride_h = 1, s.stride_w = 1;
  return s;
}
}  // namespace

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
  if (planes == 0 || HW == 0) return fast::global_avg_pool_forward(planes, HW, x, y);
  avg_pool_forward(global_shape(planes, HW), x, y, true);
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
  if (planes == 0 || HW == 0) return fast::global_avg_pool_backward(planes, HW, gy, gx);
  avg_pool_backward(global_shape(planes, HW), gy, gx, true);
}

}  // namespace nib::kernels::dnnl
