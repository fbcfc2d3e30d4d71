// Memory-bound rows: ops whose time is set by DRAM traffic, not arithmetic —
// pooling, batch norm, softmax and cross-entropy, ReLU, element-wise add and
// the fused Adam update — measured in GB/s and % of the peak bandwidth.
//
// "bytes" is the least traffic the op needs through its interface: every
// input read once, every output written once, except where the algorithm
// needs a second look at a tensor too big for the caches (batch norm reads x
// once for its statistics and again to normalise). A kernel can only beat
// 100% of peak when its data sits in L2, which the small shapes (basic CNN)
// do: their GB/s are cache numbers, and the bandwidth target counts only rows
// that move at least 4x the L2 size.
//
// A cudaMemcpy device-to-device copy gives the bandwidth a trivial kernel
// reaches in practice (typically 85-95% of the datasheet peak).
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/cuda/groups.h"
#include "kernels/activation.h"
#include "kernels/gelu.h"
#include "kernels/batchnorm.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"
#include "kernels/pool.h"
#include "kernels/softmax.h"

namespace nib::bench::gpu {

namespace {

// The library side of pooling, batch norm and softmax is cuDNN. Without it
// the cases run nib's kernels alone: `lib` then names kernels::cuda only so that
// the code below compiles and links, and race() never calls it.
#ifdef NIB_CUDNN
namespace lib = kernels::cudnn;
constexpr bool kHaveLibrary = true;
#else
namespace lib = kernels::cuda;
constexpr bool kHaveLibrary = false;
#endif

std::string dims(std::initializer_list<int64_t> sizes) {
  std::string out;
  for (int64_t s : sizes) {
    if (!out.empty()) out += 'x';
    out += std::to_string(s);
  }
  return out;
}

// One memory-bound case: nib's kernel and, where there is one, the
// library's, each writing its own output so the two can be compared.
struct Case {
  const char* model;
  std::string layer;
  const char* pass;
  std::string shape;
  double bytes;
  std::function<void()> ours;
  const DeviceBuffer* ours_out = nullptr;
  std::function<void()> library = nullptr;  // null: no library version
  const DeviceBuffer* library_out = nullptr;
  const char* library_name = "cudnn";
};

void race(const Options& options, Results& results, const Case& c) {
  auto row = [&](const char* impl, bool library, const Timing& t) {
    Row r{"memory", c.model, c.layer, "memory", c.pass, c.shape, impl, library, false, Bound::Memory};
    r.bytes = c.bytes;
    r.ms = t.median_ms;
    r.samples = t.samples;
    return r;
  };
  if (!c.library || !kHaveLibrary) {
    results.add(row("cuda", false, time_gpu(c.ours, options.timing)));
    return;
  }
  Row lib = row(c.library_name, true, time_gpu(c.library, options.timing));
  Row ours = row("cuda", false, time_gpu(c.ours, options.timing));
  lib.vs_library = 1.0;
  ours.vs_library = lib.ms / ours.ms;
  if (c.ours_out && c.library_out)
    ours.rel_error = relative_difference(c.ours_out->download(), c.library_out->download());
  results.add(std::move(lib));
  results.add(std::move(ours));
}

// ---- Pooling -------------------------------------------------------------------
void max_pool(const Options& o, Results& results, const char* model, const std::string& layer, int64_t N, int64_t C,
              int64_t HW) {
  kernels::Pool2dShape s;
  s.N = N, s.C = C, s.H = s.W = HW;  // 2x2, stride 2: the pool of every network here
  const size_t xn = N * C * HW * HW, yn = N * C * s.P() * s.Q();
  DeviceBuffer x(xn), y(yn), y_lib(yn), gy(yn), gx(xn), gx_lib(xn);
  DeviceArray<int32_t> argmax(yn), argmax_lib(yn);
  fill_uniform(x, 11);
  fill_uniform(gy, 12);
  const std::string shape = dims({N, C, HW, HW}) + " -> " + dims({N, C, s.P(), s.Q()});
  // Forward writes y and the winners' indices (int32). The library side is
  // cuDNN's pooling plus nib's argmax kernel (cuDNN returns no indices), and
  // its backward is nib's scatter from argmax (pool_cudnn.cpp explains why).
  race(o, results,
       {model, layer, "fwd", shape, 4.0 * (xn + 2 * yn),
        [&] { kernels::cuda::max_pool_forward(s, x.get(), y.get(), argmax.get()); }, &y,
        [&] { lib::max_pool_forward(s, x.get(), y_lib.get(), argmax_lib.get()); }, &y_lib});
  // Backward reads gy and argmax, writes gx. Both use nib's argmax (the
  // interface's contract: the same winners), so the outputs can be compared.
  race(o, results,
       {model, layer, "bwd", shape, 4.0 * (2 * yn + xn),
        [&] { kernels::cuda::max_pool_backward(s, gy.get(), argmax.get(), gx.get()); }, &gx,
        [&] { lib::max_pool_backward(s, gy.get(), argmax.get(), gx_lib.get()); }, &gx_lib});
}

void avg_pool(const Options& o, Results& results, const char* model, const std::string& layer, int64_t N, int64_t C,
              int64_t HW) {
  kernels::Pool2dShape s;
  s.N = N, s.C = C, s.H = s.W = HW;
  const size_t xn = N * C * HW * HW, yn = N * C * s.P() * s.Q();
  DeviceBuffer x(xn), y(yn), y_lib(yn), gy(yn), gx(xn), gx_lib(xn);
  fill_uniform(x, 13);
  fill_uniform(gy, 14);
  const std::string shape = dims({N, C, HW, HW}) + " -> " + dims({N, C, s.P(), s.Q()});
  race(o, results,
       {model, layer, "fwd", shape, 4.0 * (xn + yn),
        [&] { kernels::cuda::avg_pool_forward(s, x.get(), y.get(), true); }, &y,
        [&] { lib::avg_pool_forward(s, x.get(), y_lib.get(), true); }, &y_lib});
  race(o, results,
       {model, layer, "bwd", shape, 4.0 * (yn + xn),
        [&] { kernels::cuda::avg_pool_backward(s, gy.get(), gx.get(), true); }, &gx,
        [&] { lib::avg_pool_backward(s, gy.get(), gx_lib.get(), true); }, &gx_lib});
}

void global_avg_pool(const Options& o, Results& results, const char* model, const std::string& layer, int64_t N,
                     int64_t C, int64_t HW) {
  const int64_t planes = N * C, hw = HW * HW;
  DeviceBuffer x(planes * hw), y(planes), y_lib(planes), gy(planes), gx(planes * hw), gx_lib(planes * hw);
  fill_uniform(x, 15);
  fill_uniform(gy, 16);
  const std::string shape = dims({N, C, HW, HW}) + " -> " + dims({N, C});
  const double bytes = 4.0 * (planes * hw + planes);
  race(o, results,
       {model, layer, "fwd", shape, bytes,
        [&] { kernels::cuda::global_avg_pool_forward(planes, hw, x.get(), y.get()); }, &y,
        [&] { lib::global_avg_pool_forward(planes, hw, x.get(), y_lib.get()); }, &y_lib});
  race(o, results,
       {model, layer, "bwd", shape, bytes,
        [&] { kernels::cuda::global_avg_pool_backward(planes, hw, gy.get(), gx.get()); }, &gx,
        [&] { lib::global_avg_pool_backward(planes, hw, gy.get(), gx_lib.get()); }, &gx_lib});
}

// ---- Batch norm (training mode) ---------------------------------------------------
void batchnorm(const Options& o, Results& results, const char* model, const std::string& layer, int64_t N, int64_t C,
               int64_t HW) {
  const kernels::BatchNormShape s{N, C, HW * HW};
  const size_t n = N * C * HW * HW;
  DeviceBuffer x(n), gy(n), y(n), y_lib(n), gx(n), gx_lib(n);
  DeviceBuffer gamma(C), beta(C), mean(C), var(C), mean_lib(C), var_lib(C);
  // Saved statistics, one set per implementation: each backward uses its own forward's.
  DeviceBuffer save_mean(C), save_invstd(C), save_mean_lib(C), save_invstd_lib(C);
  DeviceBuffer ggamma(C), gbeta(C), ggamma_lib(C), gbeta_lib(C);
  fill_uniform(x, 17);
  fill_uniform(gy, 18);
  fill_uniform(gamma, 19, 0.5f, 1.5f);
  fill_uniform(beta, 20);
  fill_value(mean, 0.0f);
  fill_value(mean_lib, 0.0f);
  fill_value(var, 1.0f);
  fill_value(var_lib, 1.0f);
  const float eps = 1e-5f, momentum = 0.1f;
  const std::string shape = dims({N, C, HW, HW});
  race(o, results,
       {model, layer, "fwd", shape, 4.0 * 3 * n,
        [&] {
          kernels::cuda::batchnorm_forward_train(s, x.get(), gamma.get(), beta.get(), eps, momentum, mean.get(),
                                                   var.get(), y.get(), save_mean.get(), save_invstd.get());
        },
        &y,
        [&] {
          lib::batchnorm_forward_train(s, x.get(), gamma.get(), beta.get(), eps, momentum, mean_lib.get(),
                                       var_lib.get(), y_lib.get(), save_mean_lib.get(), save_invstd_lib.get());
        },
        &y_lib});
  race(o, results,
       {model, layer, "bwd", shape, 4.0 * 5 * n,
        [&] {
          kernels::cuda::batchnorm_backward_train(s, x.get(), gy.get(), gamma.get(), save_mean.get(),
                                                    save_invstd.get(), gx.get(), ggamma.get(), gbeta.get());
        },
        &gx,
        [&] {
          lib::batchnorm_backward_train(s, x.get(), gy.get(), gamma.get(), save_mean_lib.get(), save_invstd_lib.get(),
                                        gx_lib.get(), ggamma_lib.get(), gbeta_lib.get());
        },
        &gx_lib});
}

// ---- Softmax and cross-entropy --------------------------------------------------
void softmax(const Options& o, Results& results, const char* model, const std::string& layer, int64_t rows,
             int64_t cols) {
  const size_t n = rows * cols;
  DeviceBuffer x(n), y(n), y_lib(n), gy(n), gx(n), gx_lib(n), loss(rows), grad_loss(1);
  DeviceArray<int32_t> labels(rows);
  fill_uniform(x, 21, -4.0f, 4.0f);
  fill_uniform(gy, 22);
  fill_labels(labels, 23, static_cast<int32_t>(cols));
  fill_value(grad_loss, 1.0f);
  const std::string shape = dims({rows, cols});
  race(o, results,
       {model, layer + " softmax", "fwd", shape, 4.0 * 2 * n,
        [&] { kernels::cuda::softmax_forward(rows, cols, x.get(), y.get(), false); }, &y,
        [&] { lib::softmax_forward(rows, cols, x.get(), y_lib.get(), false); }, &y_lib});
  // Both backwards take the library's forward output.
  race(o, results,
       {model, layer + " softmax", "bwd", shape, 4.0 * 3 * n,
        [&] { kernels::cuda::softmax_backward(rows, cols, y_lib.get(), gy.get(), gx.get(), false); }, &gx,
        [&] { lib::softmax_backward(rows, cols, y_lib.get(), gy.get(), gx_lib.get(), false); }, &gx_lib});
  // Cross-entropy: cuDNN has none (cudnn:: calls nib's kernel), so nib's only.
  // Forward reads logits and labels, writes probs and a loss per row.
  race(o, results,
       {model, layer + " cross-entropy", "fwd", shape, 4.0 * (2 * n + 2 * rows),
        [&] { kernels::cuda::cross_entropy_forward(rows, cols, x.get(), labels.get(), 0.0f, loss.get(), y.get()); }});
  race(o, results, {model, layer + " cross-entropy", "bwd", shape, 4.0 * (2 * n + rows), [&] {
                      kernels::cuda::cross_entropy_backward(rows, cols, y.get(), labels.get(), 0.0f, grad_loss.get(),
                                                              gx.get());
                    }});
}

// ---- ReLU and add --------------------------------------------------------------------
void relu(const Options& o, Results& results, const char* model, const std::string& layer, const std::string& shape,
          int64_t n) {
  DeviceBuffer x(n), y(n), gy(n), gx(n);
  fill_uniform(x, 24);
  fill_uniform(gy, 25);
  using kernels::Activation;
  race(o, results, {model, layer, "fwd", shape, 4.0 * 2 * n, [&] {
                      kernels::cuda::activation_forward(Activation::ReLU, n, x.get(), y.get());
                    }});
  race(o, results, {model, layer, "bwd", shape, 4.0 * 3 * n, [&] {
                      kernels::cuda::activation_backward(Activation::ReLU, n, y.get(), gy.get(), gx.get());
                    }});
}

// GELU has no cuDNN counterpart: the row is nib's kernel alone, in GB/s.
void gelu(const Options& o, Results& results, const char* model, const std::string& layer, const std::string& shape,
          int64_t n) {
  DeviceBuffer x(n), y(n), gy(n), gx(n);
  fill_uniform(x, 28);
  fill_uniform(gy, 29);
  race(o, results, {model, layer, "fwd", shape, 4.0 * 2 * n, [&] { kernels::cuda::gelu_forward(n, x.get(), y.get()); }});
  race(o, results, {model, layer, "bwd", shape, 4.0 * 3 * n,
                    [&] { kernels::cuda::gelu_backward(n, x.get(), gy.get(), gx.get()); }});
}

void add(const Options& o, Results& results, const char* model, const std::string& layer, const std::string& shape,
         int64_t n) {
  DeviceBuffer a(n), b(n), y(n);
  fill_uniform(a, 26);
  fill_uniform(b, 27);
  kernels::BroadcastShape s;  // same shapes, no broadcasting: one contiguous dimension
  s.ndim = 1;
  s.out[0] = n;
  s.a_stride[0] = s.b_stride[0] = 1;
  race(o, results, {model, layer, "fwd", shape, 4.0 * 3 * n, [&] {
                      kernels::cuda::binary(kernels::BinaryOp::Add, s, a.get(), b.get(), y.get());
                    }});
}

// What a trivial kernel reaches: the driver's device-to-device copy.
void copy_reference(const Options& o, Results& results, int64_t n) {
  DeviceBuffer src(n), dst(n);
  fill_uniform(src, 28);
  Row r{"memory",     "large", "device copy", "memory",     "", dims({n}) + " floats",
        "cudaMemcpy", true,    false,         Bound::Memory};
  const Timing t = time_gpu(
      [&] { NIB_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), 4 * n, cudaMemcpyDeviceToDevice, cuda::stream())); },
      o.timing);
  r.bytes = 4.0 * 2 * n;
  r.ms = t.median_ms;
  r.samples = t.samples;
  results.add(std::move(r));
}

// ---- Adam ----------------------------------------------------------------------------
// One fused multi-tensor Adam step over a network's parameter tensors (sizes
// as the network has them, so the launch splits them as in training).
// Reads p, g, m, v and writes p, m, v: 7 floats per parameter.
void adam(const Options& o, Results& results, const char* model, const std::vector<int64_t>& tensor_sizes) {
  int64_t total = 0;
  for (int64_t n : tensor_sizes) total += n;
  DeviceBuffer p(total), g(total), m(total), v(total);
  fill_uniform(p, 29);
  fill_uniform(g, 30);
  fill_value(m, 0.0f);
  fill_value(v, 0.0f);
  std::vector<kernels::ParamSlot> slots;
  int64_t offset = 0;
  for (int64_t n : tensor_sizes) {
    slots.push_back({p.get() + offset, g.get() + offset, m.get() + offset, v.get() + offset, n});
    offset += n;
  }
  kernels::AdamParams params;  // PyTorch's defaults, step 1
  race(o, results,
       {model, "adam", "step", std::to_string(tensor_sizes.size()) + " tensors, " + std::to_string(total) + " params",
        4.0 * 7 * total, [&] { kernels::cuda::adam_step(slots, params); }});
}

std::vector<int64_t> basic_cnn_parameters() {
  return {32 * 1 * 5 * 5, 32, 64 * 32 * 5 * 5, 64, 128 * 1024, 128, 10 * 128, 10};
}

std::vector<int64_t> vgg16_parameters() {
  const int64_t convs[][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128}, {128, 256}, {256, 256}, {256, 256},
                              {256, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}};
  std::vector<int64_t> sizes;
  for (const auto& c : convs) sizes.push_back(c[1] * c[0] * 9), sizes.push_back(c[1]);
  const int64_t fcs[][2] = {{512 * 7 * 7, 4096}, {4096, 4096}, {4096, 1000}};
  for (const auto& f : fcs) sizes.push_back(f[1] * f[0]), sizes.push_back(f[1]);
  return sizes;  // 138,357,544 parameters
}

}  // namespace

void bench_memory(const Options& options, Results& results) {
  const Options& o = options;
  // Each case is in the --quick subset (q), the --headline subset (h), both or
  // neither. The headline cases are the ones that move at least 4x an H100's or
  // H200's L2 (50-60 MB), the rows the bandwidth target counts, next to the
  // copy that measures what a trivial kernel reaches.
  auto runs = [&](bool q, bool h) { return o.runs(q, h); };
  // Basic CNN, batch 128 (small: mostly L2-resident, often launch-bound).
  if (runs(true, false)) {
    max_pool(o, results, "basic-cnn", "pool1 max 2x2", 128, 32, 24);
    max_pool(o, results, "basic-cnn", "pool2 max 2x2", 128, 64, 8);
    relu(o, results, "basic-cnn", "relu1", dims({128, 32, 24, 24}), 128 * 32 * 24 * 24);
    softmax(o, results, "basic-cnn", "logits", 128, 10);
    adam(o, results, "basic-cnn", basic_cnn_parameters());
    cuda::empty_cache();
  }
  // VGG16, batch 32.
  if (runs(false, true)) max_pool(o, results, "vgg16", "pool1 max 2x2", 32, 64, 224);
  if (runs(false, false)) {
    max_pool(o, results, "vgg16", "pool5 max 2x2", 32, 512, 14);
    avg_pool(o, results, "vgg16", "pool1 shape, avg 2x2", 32, 64, 224);
  }
  if (runs(false, true)) relu(o, results, "vgg16", "relu1_1", dims({32, 64, 224, 224}), 32LL * 64 * 224 * 224);
  if (runs(false, false)) softmax(o, results, "vgg16", "logits", 32, 1000);
  if (runs(false, false)) gelu(o, results, "vgg16", "relu1_1 shape, gelu", dims({32, 64, 224, 224}), 32LL * 64 * 224 * 224);
  if (runs(false, true)) adam(o, results, "vgg16", vgg16_parameters());
  cuda::empty_cache();
  // MobileNetV2, batch 64.
  if (runs(true, false)) batchnorm(o, results, "mobilenetv2", "features.0 bn", 64, 32, 112);
  if (runs(false, true)) batchnorm(o, results, "mobilenetv2", "features.2 expand bn", 64, 96, 112);
  if (runs(false, false)) {
    batchnorm(o, results, "mobilenetv2", "features.18 bn", 64, 1280, 7);
    add(o, results, "mobilenetv2", "features.3 residual add", dims({64, 24, 56, 56}), 64LL * 24 * 56 * 56);
    global_avg_pool(o, results, "mobilenetv2", "global avg pool", 64, 1280, 7);
  }
  cuda::empty_cache();
  // Large, to measure DRAM bandwidth rather than L2: 2^26 floats (256 MiB) per tensor.
  const int64_t big = int64_t{1} << 26;
  if (runs(true, true)) {
    copy_reference(o, results, big);
    add(o, results, "large", "add", dims({big}), big);
  }
  if (runs(false, true)) softmax(o, results, "large", "rows", 65536, 1000);
  cuda::empty_cache();
}

}  // namespace nib::bench::gpu
