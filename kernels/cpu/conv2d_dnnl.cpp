// dnnl::conv2d_*: the convolution passes through oneDNN, Intel's library of
// deep-learning primitives for CPUs (Debian's libdnnl-dev; the engine of
// PyTorch's and TensorFlow's CPU convolutions). It is here as the library
// baseline that nib's hand-written CPU kernels (kernels/cpu/conv2d_fast.cpp,
// conv2d_depthwise_fast.cpp) race in `nib bench cpu`, as cuDNN is on the GPU
// (kernels/cuda/conv2d_cudnn.cpp). Selected only when asked:
// `--kernels conv2d=dnnl`, NIB_KERNELS=dnnl, kernels::Use("conv2d", "dnnl").
//
// Layout. nib's tensors are NCHW. Each pass runs on them in one of two ways:
//  - plain: oneDNN is given its plain formats over nib's own buffers, nchw
//    for x and y, oihw (goihw with groups) for the weight, x for the bias;
//    nothing is copied. oneDNN then runs its im2col + GEMM convolution
//    ("gemm:jit"), much as nib's fast path does;
//  - blocked: oneDNN chooses the formats (format_tag::any: nChw16c and
//    friends on AVX-512) for its direct and depthwise kernels, and the pass
//    reorders its inputs into them and its outputs back to nchw on every
//    call (nib hands oneDNN one call at a time, not a whole network kept in
//    its layout, so the reorders are part of the price).
// Which one, per pass (blocked_layout below), from one run of
// `nib bench cpu` with each forced (an AVX-512 AMD EPYC with 2 logical CPUs,
// oneDNN 2.6.3, one thread, a machine loaded by other jobs; the tables are
// in bench/results/cpu_ops_dnnl_layout_{plain,blocked}.md): blocked
// (oneDNN's jit:avx512_core and jit_dw kernels, reorders included) was
// 1.1-2.7x faster for most passes of the 3x3 and 5x5 layers (even, or up to
// 1.2x slower, on two of VGG's) and 4-11x faster for depthwise ones, where plain runs one
// tiny GEMM per channel; plain was 1.4-1.9x faster for the forward and input
// gradient of 1x1 layers (a plain GEMM in NCHW, no reorder to pay for) and
// 1.7-5x faster for the input gradient of layers with few input channels
// (C < 16: a network's first layer).
// NIB_DNNL_LAYOUT=plain or =blocked forces one of the two for every pass
// (read once; for the benchmark that chose the rule).
//
// Padding per side (TensorFlow's 'SAME') is oneDNN's own padding_l /
// padding_r: no explicit copy, unlike cuDNN. oneDNN's dilation counts the
// gaps (nib's dilation - 1). algorithm::convolution_direct, never Winograd:
// the same arithmetic as the reference, up to summation order.
//
// Caching. Descriptors, primitives and reorders are made on a shape's first
// call and kept per problem (dnnl_util::PlanCache): the forward with and
// without bias, backward data, backward weights with and without the bias
// gradient, each made on its first use. Per call only the memory objects
// that wrap nib's pointers are made; the blocked copies live in buffers
// shared by all shapes (the cache's lock is held for the whole call).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/dnnl_util.h"
#include "util/error.h"

namespace nib::kernels::dnnl {

namespace {

namespace dn = ::dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

enum PassKind { kForward, kBackwardData, kBackwardWeight };

// Whether pass `kind` of shape s runs on oneDNN's blocked layouts (see the top of the file).
bool blocked_layout(const Conv2dProblem& s, PassKind kind) {
  static const std::string forced = [] {
    const char* env = std::getenv("NIB_DNNL_LAYOUT");
    return std::string(env ? env : "");
  }();
  NIB_CHECK(forced.empty() || forced == "plain" || forced == "blocked",
            "NIB_DNNL_LAYOUT is 'plain' or 'blocked', not '", forced, "'");
  if (!forced.empty()) return forced == "blocked";
  if (s.groups > 1) return true;
  if (s.R == 1 && s.S == 1) return false;
  return !(kind == kBackwardData && s.C < 16);
}

// `md` itself (plain), or the same dimensions in whatever format oneDNN prefers.
dn::memory::desc asked(const dn::memory::desc& md, bool blocked) {
  return blocked ? dn::memory::desc(md.dims(), dt::f32, tag::any) : md;
}

// A buffer per operand slot for the blocked copies, shared by every plan
// (callers hold the cache's lock), grown when a larger one is needed.
void* slot_buffer(size_t slot, size_t bytes) {
  struct Buffer {
    std::unique_ptr<void, decltype(&std::free)> data{nullptr, &std::free};
    size_t size = 0;
  };
  static auto* buffers = new std::vector<Buffer>(4);
  Buffer& b = (*buffers)[slot];
  if (b.size < bytes) {
    b.data.reset();
    b.size = 0;
    const size_t rounded = (bytes + 63) / 64 * 64;
    b.data.reset(std::aligned_alloc(64, rounded));
    NIB_CHECK(b.data, "dnnl::conv2d: out of memory for a ", rounded, "-byte blocked copy");
    b.size = rounded;
  }
  return b.data.get();
}

// One argument of a pass: nib's plain memory and the format oneDNN chose,
// with the reorder between them (none when they are the same).
struct Operand {
  int arg;  // DNNL_ARG_*
  bool output;
  dn::memory::desc plain, chosen;
  dn::primitive reorder;  // plain -> chosen for inputs, chosen -> plain for outputs; empty when equal

  Operand(int arg_, bool output_, const dn::memory::desc& plain_, const dn::memory::desc& chosen_)
      : arg(arg_), output(output_), plain(plain_), chosen(chosen_) {
    if (plain == chosen) return;
    const auto& e = dnnl_util::engine();
    reorder = dn::reorder(output ? dn::reorder::primitive_desc(e, chosen, e, plain)
                                 : dn::reorder::primitive_desc(e, plain, e, chosen));
  }
};

// One primitive with its operands; run() takes nib's pointers in the order of the operands.
struct Pass {
  dn::primitive primitive;
  std::vector<Operand> operands;

  explicit operator bool() const { return bool(primitive); }
  void run(const std::vector<const void*>& pointers) const {
    std::unordered_map<int, dn::memory> args;
    std::vector<std::pair<const Operand*, dn::memory>> outputs;  // blocked outputs, reordered back after
    for (size_t i = 0; i < operands.size(); ++i) {
      const Operand& o = operands[i];
      dn::memory user = dnnl_util::wrap(o.plain, const_cast<void*>(pointers[i]));
      if (!o.reorder) {
        args[o.arg] = user;
        continue;
      }
      dn::memory inner = dnnl_util::wrap(o.chosen, slot_buffer(i, o.chosen.get_size()));
      if (o.output)
        outputs.push_back({&o, user});
      else
        dnnl_util::execute(o.reorder, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, inner}});
      args[o.arg] = inner;
    }
    dnnl_util::execute(primitive, args);
    for (auto& [o, user] : outputs) dnnl_util::execute(o->reorder, {{DNNL_ARG_FROM, args[o->arg]}, {DNNL_ARG_TO, user}});
  }
};

struct ConvPlan {
  dn::memory::desc x, w, b, y;  // nib's plain formats
  bool blocked[3];              // per PassKind
  dn::memory::dims strides, dilates, pad_l, pad_r;
  dn::convolution_forward::primitive_desc hint;  // forward with bias: the backward passes' hint
  Pass forward_bias, forward_plain, backward_data, backward_weight_bias, backward_weight_plain;

  explicit ConvPlan(const Conv2dProblem& s)
      : x({s.N, s.C, s.H, s.W}, dt::f32, tag::nchw),
        w(s.groups == 1 ? dn::memory::desc({s.K, s.C, s.R, s.S}, dt::f32, tag::oihw)
                        : dn::memory::desc({s.groups, s.K_per_group, s.C_per_group, s.R, s.S}, dt::f32, tag::goihw)),
        b({s.K}, dt::f32, tag::x),
        y({s.N, s.K, s.P, s.Q}, dt::f32, tag::nchw),
        blocked{blocked_layout(s, kForward), blocked_layout(s, kBackwardData), blocked_layout(s, kBackwardWeight)},
        strides{s.stride_h, s.stride_w},
        dilates{s.dilation_h - 1, s.dilation_w - 1},
        pad_l{s.pad_top, s.pad_left},
        pad_r{s.pad_bottom, s.pad_right},
        hint(forward_desc(true), dnnl_util::engine()) {}

  dn::convolution_forward::desc forward_desc(bool with_bias) const {
    const bool f = blocked[kForward];
    return dn::convolution_forward::desc(dn::prop_kind::forward_training, dn::algorithm::convolution_direct,
                                         asked(x, f), asked(w, f), with_bias ? b : dn::memory::desc(), asked(y, f),
                                         strides, dilates, pad_l, pad_r);
  }
  const Pass& forward(bool with_bias) {
    Pass& p = with_bias ? forward_bias : forward_plain;
    if (!p) {
      auto pd = with_bias ? hint : dn::convolution_forward::primitive_desc(forward_desc(false), dnnl_util::engine());
      p.primitive = dn::convolution_forward(pd);
      p.operands = {{DNNL_ARG_SRC, false, x, pd.src_desc()},
                    {DNNL_ARG_WEIGHTS, false, w, pd.weights_desc()},
                    {DNNL_ARG_DST, true, y, pd.dst_desc()}};
      if (with_bias) p.operands.push_back({DNNL_ARG_BIAS, false, b, b});
    }
    return p;
  }
  const Pass& data() {
    if (!backward_data) {
      const bool d = blocked[kBackwardData];
      dn::convolution_backward_data::primitive_desc pd(
          dn::convolution_backward_data::desc(dn::algorithm::convolution_direct, asked(x, d), asked(w, d),
                                              asked(y, d), strides, dilates, pad_l, pad_r),
          dnnl_util::engine(), hint);
      backward_data.primitive = dn::convolution_backward_data(pd);
      backward_data.operands = {{DNNL_ARG_DIFF_DST, false, y, pd.diff_dst_desc()},
                                {DNNL_ARG_WEIGHTS, false, w, pd.weights_desc()},
                                {DNNL_ARG_DIFF_SRC, true, x, pd.diff_src_desc()}};
    }
    return backward_data;
  }
  const Pass& weight(bool with_bias) {
    Pass& p = with_bias ? backward_weight_bias : backward_weight_plain;
    if (!p) {
      const bool k = blocked[kBackwardWeight];
      const dn::memory::desc xa = asked(x, k), wa = asked(w, k), ya = asked(y, k);
      auto d = with_bias ? dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, xa, wa, b, ya,
                                                                 strides, dilates, pad_l, pad_r)
                         : dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, xa, wa, ya,
                                                                 strides, dilates, pad_l, pad_r);
      dn::convolution_backward_weights::primitive_desc pd(d, dnnl_util::engine(), hint);
      p.primitive = dn::convolution_backward_weights(pd);
      p.operands = {{DNNL_ARG_SRC, false, x, pd.src_desc()},
                    {DNNL_ARG_DIFF_DST, false, y, pd.diff_dst_desc()},
                    {DNNL_ARG_DIFF_WEIGHTS, true, w, pd.diff_weights_desc()}};
      if (with_bias) p.operands.push_back({DNNL_ARG_DIFF_BIAS, true, b, b});
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
  dnnl_util::locked(cache(), "dnnl::conv2d_forward", [&] {
    const Pass& pass = plan_for(s).forward(bias != nullptr);
    if (bias)
      pass.run({x, w, y, bias});
    else
      pass.run({x, w, y});
  });
}

void conv2d_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  if (s.N == 0) return;
  dnnl_util::locked(cache(), "dnnl::conv2d_backward_data", [&] {
    plan_for(s).data().run({gy, w, gx});
  });
}

void conv2d_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw, float* gbias) {
  if (s.N == 0) {  // an empty batch: zero gradients
    std::memset(gw, 0, sizeof(float) * size_t(s.K * s.C_per_group * s.R * s.S));
    if (gbias) std::memset(gbias, 0, sizeof(float) * size_t(s.K));
    return;
  }
  dnnl_util::locked(cache(), "dnnl::conv2d_backward_weight", [&] {
    const Pass& pass = plan_for(s).weight(gbias != nullptr);
    if (gbias)
      pass.run({x, gy, gw, gbias});
    else
      pass.run({x, gy, gw});
  });
}

}  // namespace nib::kernels::dnnl
