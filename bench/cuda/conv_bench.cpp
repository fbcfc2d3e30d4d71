// Convolution rows: every conv layer of the basic CNN (batch 128), VGG16's
// 13 (224x224, batch 32) and MobileNetV2's distinct depthwise and pointwise
// convolutions (224x224, batch 64), each in its three passes (fwd, bwd-data,
// bwd-weight), nib's CUDA kernels against cuDNN with TF32 off — and cuDNN
// with TF32 on for the dense layers, to show what tensor cores would add
// (depthwise convolutions have no tensor-core algorithm).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "bench/cuda/groups.h"
#include "kernels/conv2d.h"
#include "kernels/registry.h"

namespace nib::bench::gpu {

#ifdef NIB_CUDNN

namespace {

struct ConvLayer {
  const char* model;
  std::string layer;
  const char* kind;  // "conv", "depthwise", "pointwise"
  kernels::Conv2dProblem shape;
  bool quick;            // in the --quick subset
  bool headline = false;  // in the --headline subset
};

std::vector<ConvLayer> conv_layers() {
  std::vector<ConvLayer> all;
  // Basic CNN (models/basic_cnn.h), batch 128: 'valid' 5x5 convolutions, 28 -> 24 -> pool 12 -> 8.
  all.push_back({"basic-cnn", "conv1", "conv", square_conv(128, 1, 28, 32, 5, 1, 0), true, true});
  all.push_back({"basic-cnn", "conv2", "conv", square_conv(128, 32, 12, 64, 5, 1, 0), true, true});

  // VGG16, batch 32: 3x3 'same' convolutions, a 2x2 max pool after each block.
  struct Vgg {
    const char* name;
    int64_t C, HW, K;
  };
  const Vgg vgg[] = {{"conv1_1", 3, 224, 64},    {"conv1_2", 64, 224, 64},  {"conv2_1", 64, 112, 128},
                     {"conv2_2", 128, 112, 128}, {"conv3_1", 128, 56, 256}, {"conv3_2", 256, 56, 256},
                     {"conv3_3", 256, 56, 256},  {"conv4_1", 256, 28, 512}, {"conv4_2", 512, 28, 512},
                     {"conv4_3", 512, 28, 512},  {"conv5_1", 512, 14, 512}, {"conv5_2", 512, 14, 512},
                     {"conv5_3", 512, 14, 512}};
  for (const Vgg& v : vgg)
    all.push_back({"vgg16", v.name, "conv", square_conv(32, v.C, v.HW, v.K, 3, 1, 1), std::string(v.name) == "conv3_2",
                   std::string(v.name) == "conv3_1"});

  // MobileNetV2, batch 64 (torchvision's layout; features.N is block N).
  // The stem, then each distinct depthwise 3x3 (channels, input size,
  // stride) and each distinct pointwise 1x1 (in, out, size), named by the
  // first block that has it.
  all.push_back({"mobilenetv2", "features.0 stem 3x3 s2", "conv", square_conv(64, 3, 224, 32, 3, 2, 1), false});
  struct Depthwise {
    const char* block;
    int64_t C, HW, stride;
  };
  const Depthwise dws[] = {{"features.1", 32, 112, 1}, {"features.2", 96, 112, 2},  {"features.3", 144, 56, 1},
                           {"features.4", 144, 56, 2}, {"features.5", 192, 28, 1},  {"features.7", 192, 28, 2},
                           {"features.8", 384, 14, 1}, {"features.12", 576, 14, 1}, {"features.14", 576, 14, 2},
                           {"features.15", 960, 7, 1}};
  // --headline: every depthwise layer (the depthwise target is judged on all of them).
  for (const Depthwise& d : dws)
    all.push_back({"mobilenetv2", std::string(d.block) + " dw" + (d.stride == 2 ? " s2" : ""), "depthwise",
                   square_conv(64, d.C, d.HW, d.C, 3, d.stride, 1, d.C), std::string(d.block) == "features.1", true});
  struct Pointwise {
    const char* name;
    int64_t C, K, HW;
  };
  const Pointwise pws[] = {
      {"features.1 project", 32, 16, 112}, {"features.2 expand", 16, 96, 112},   {"features.2 project", 96, 24, 56},
      {"features.3 expand", 24, 144, 56},  {"features.3 project", 144, 24, 56},  {"features.4 project", 144, 32, 28},
      {"features.5 expand", 32, 192, 28},  {"features.5 project", 192, 32, 28},  {"features.7 project", 192, 64, 14},
      {"features.8 expand", 64, 384, 14},  {"features.8 project", 384, 64, 14},  {"features.11 project", 384, 96, 14},
      {"features.12 expand", 96, 576, 14}, {"features.12 project", 576, 96, 14}, {"features.14 project", 576, 160, 7},
      {"features.15 expand", 160, 960, 7}, {"features.15 project", 960, 160, 7}, {"features.17 project", 960, 320, 7},
      {"features.18 1x1", 320, 1280, 7}};
  // --headline: the largest input (features.2 expand), a middle one and the widest output (features.18).
  for (const Pointwise& p : pws) {
    const std::string name = p.name;
    all.push_back({"mobilenetv2", name, "pointwise", square_conv(64, p.C, p.HW, p.K, 1, 1, 0),
                   name == "features.2 expand",
                   name == "features.2 expand" || name == "features.8 expand" || name == "features.18 1x1"});
  }
  return all;
}

std::string describe(const kernels::Conv2dProblem& s) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "x %lldx%lldx%lldx%lld, w %lldx%lldx%lldx%lld, stride %lld, pad %lld%s -> %lldx%lld",
                static_cast<long long>(s.N), static_cast<long long>(s.C), static_cast<long long>(s.H),
                static_cast<long long>(s.W), static_cast<long long>(s.K), static_cast<long long>(s.C_per_group),
                static_cast<long long>(s.R), static_cast<long long>(s.S), static_cast<long long>(s.stride_h),
                static_cast<long long>(s.pad_top), s.groups > 1 ? (", groups " + std::to_string(s.groups)).c_str() : "",
                static_cast<long long>(s.P), static_cast<long long>(s.Q));
  return buf;
}

void bench_layer(const Options& options, Results& results, const ConvLayer& layer) {
  const kernels::Conv2dProblem& s = layer.shape;
  const size_t xn = s.N * s.C * s.H * s.W, yn = s.N * s.K * s.P * s.Q, wn = s.K * s.C_per_group * s.R * s.S;
  DeviceBuffer x(xn), w(wn), bias(s.K), gy(yn), gbias(s.K);
  fill_uniform(x, 3);
  fill_uniform(w, 4);
  fill_uniform(bias, 5);
  fill_uniform(gy, 6);

  // Each pass writes one output; the library's is kept as the reference.
  struct Pass {
    const char* name;
    size_t outputs;
    double bytes;  // read the two inputs, write the output
    std::function<void(bool library, float* out)> run;
  };
  const std::vector<Pass> passes = {
      {"fwd", yn, 4.0 * (xn + wn + yn),
       [&](bool lib, float* y) {
         (lib ? kernels::cudnn::conv2d_forward : kernels::cuda::conv2d_forward)(s, x.get(), w.get(), bias.get(), y);
       }},
      {"bwd-data", xn, 4.0 * (yn + wn + xn),
       [&](bool lib, float* gx) {
         (lib ? kernels::cudnn::conv2d_backward_data : kernels::cuda::conv2d_backward_data)(s, gy.get(), w.get(),
                                                                                                gx);
       }},
      {"bwd-weight", wn, 4.0 * (xn + yn + wn),
       [&](bool lib, float* gw) {
         (lib ? kernels::cudnn::conv2d_backward_weight : kernels::cuda::conv2d_backward_weight)(
             s, x.get(), gy.get(), gw, gbias.get());
       }},
  };
  const bool dense = std::string(layer.kind) != "depthwise";
  for (const Pass& pass : passes) {
    DeviceBuffer out(pass.outputs), expected(pass.outputs);
    auto row = [&](const char* impl, bool library, bool tf32, const Timing& t) {
      Row r{"conv", layer.model, layer.layer, layer.kind, pass.name, describe(s), impl, library, tf32};
      r.flops = s.flops();  // each pass does the forward's multiply-adds
      r.bytes = pass.bytes;
      r.ms = t.median_ms;
      r.samples = t.samples;
      return r;
    };
    Row library_row, nib_row;
    {
      Tf32Scope off(false);
      library_row = row("cudnn", true, false, time_gpu([&] { pass.run(true, expected.get()); }, options.timing));
      nib_row = row("cuda", false, false, time_gpu([&] { pass.run(false, out.get()); }, options.timing));
    }
    library_row.vs_library = 1.0;
    nib_row.vs_library = library_row.ms / nib_row.ms;
    nib_row.rel_error = relative_difference(out.download(), expected.download());
    results.add(std::move(library_row));
    results.add(std::move(nib_row));
    if (dense) {
      Tf32Scope on(true);
      Row tf32_row = row("cudnn-tf32", true, true, time_gpu([&] { pass.run(true, out.get()); }, options.timing));
      tf32_row.vs_library = 1.0;
      tf32_row.rel_error = relative_difference(out.download(), expected.download());
      results.add(std::move(tf32_row));
    }
  }
}

}  // namespace

void bench_conv(const Options& options, Results& results) {
  for (const ConvLayer& layer : conv_layers()) {
    if (!options.runs(layer.quick, layer.headline)) continue;
    bench_layer(options, results, layer);
    cuda::empty_cache();  // shapes differ per layer: do not let the cache grow with each
  }
}

#else

void bench_conv(const Options&, Results&) {
  std::printf("conv: skipped (nib was built without cuDNN, the library to race against)\n");
}

#endif

}  // namespace nib::bench::gpu
