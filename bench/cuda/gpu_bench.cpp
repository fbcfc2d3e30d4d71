// The GPU benchmark (see gpu_bench.h): races every implementation against the
// library one on the same inputs, timing with CUDA events on nib's stream,
// and checks each result against the library's (a fast kernel that is
// silently wrong is worse than a slow one).
//
// Columns: ms per call (average over enough repetitions to last ~100 ms),
// GFLOP/s, "vs lib" = library time / our time (1.00 = as fast as cuBLAS or
// cuDNN, 0.50 = half as fast), and the largest difference from the
// library's output relative to its largest magnitude.
#include "bench/cuda/gpu_bench.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "tensor/cuda/context.h"
#include "util/error.h"

namespace {

using namespace nib;

// A float buffer on the GPU, returned to the allocator on scope exit.
struct DeviceBuffer {
  explicit DeviceBuffer(size_t n) : count(n), ptr(static_cast<float*>(cuda::allocate(sizeof(float) * std::max<size_t>(n, 1)))) {}
  ~DeviceBuffer() { cuda::release(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void fill_random(uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> host(count);
    for (auto& v : host) v = normal(gen);
    cuda::copy(ptr, host.data(), sizeof(float) * count, cuda::CopyKind::HostToDevice);
  }
  std::vector<float> to_host() const {
    std::vector<float> host(count);
    cuda::copy(host.data(), ptr, sizeof(float) * count, cuda::CopyKind::DeviceToHost);
    return host;
  }
  size_t count;
  float* ptr;
};

// Average milliseconds per call: one warm-up, one timed call to size the
// run, then enough calls to last about 100 ms (between 3 and 50).
double time_ms(const std::function<void()>& call) {
  cudaEvent_t start, stop;
  NIB_CUDA_CHECK(cudaEventCreate(&start));
  NIB_CUDA_CHECK(cudaEventCreate(&stop));
  auto run = [&](int reps) {
    NIB_CUDA_CHECK(cudaEventRecord(start, cuda::stream()));
    for (int i = 0; i < reps; ++i) call();
    NIB_CUDA_CHECK(cudaEventRecord(stop, cuda::stream()));
    NIB_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    NIB_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return static_cast<double>(ms) / reps;
  };
  call();  // warm-up: first-call costs (module loading, cuDNN heuristics) stay out of the timing
  const double once = run(1);
  const int reps = static_cast<int>(std::clamp(100.0 / std::max(once, 1e-3), 3.0, 50.0));
  const double ms = run(reps);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms;
}

double relative_difference(const std::vector<float>& ours, const std::vector<float>& library) {
  double scale = 1.0, worst = 0.0;
  for (size_t i = 0; i < ours.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(library[i])));
    const double d = std::fabs(static_cast<double>(ours[i]) - library[i]);
    worst = std::isnan(d) ? INFINITY : std::max(worst, d);
  }
  return worst / scale;
}

struct Row {
  std::string group;  // "gemm" or "conv2d"
  std::string name;   // "n=1024" or "resnet18 layer2.0.conv1 fwd"
  std::string impl;
  double ms, gflops, vs_library, rel_error;
};

void print_row(const Row& r) {
  std::printf("%-44s %-10s %10.3f %10.1f %8.2f %10.2e\n", r.name.c_str(), r.impl.c_str(), r.ms, r.gflops,
              r.vs_library, r.rel_error);
  std::fflush(stdout);
}

// ---- GEMM: every rung and cuBLAS on square sizes -----------------------------
void bench_gemm(bool quick, std::vector<Row>& rows) {
  struct Rung {
    const char* name;
    kernels::GemmFn* fn;
  };
  const std::vector<Rung> rungs = {{"naive", kernels::custom::gemm_naive},
                                   {"tiled", kernels::custom::gemm_tiled},
                                   {"regblock", kernels::custom::gemm_regblock},
                                   {"custom", kernels::custom::gemm},
                                   {"cublas", kernels::library::gemm}};
  std::vector<int64_t> sizes = {256, 512, 1024, 2048, 4096};
  if (quick) sizes = {256, 512, 1024};
  for (int64_t n : sizes) {
    DeviceBuffer A(n * n), B(n * n), C(n * n), C_lib(n * n);
    A.fill_random(1);
    B.fill_random(2);
    auto run = [&](kernels::GemmFn* fn, float* c) { fn(false, false, n, n, n, 1.0f, A.ptr, n, B.ptr, n, 0.0f, c, n); };
    const double lib_ms = time_ms([&] { run(kernels::library::gemm, C_lib.ptr); });
    const std::vector<float> expected = C_lib.to_host();
    const double flops = 2.0 * n * n * n;
    for (const Rung& rung : rungs) {
      const bool is_lib = rung.fn == kernels::library::gemm;
      const double ms = is_lib ? lib_ms : time_ms([&] { run(rung.fn, C.ptr); });
      const double err = is_lib ? 0.0 : relative_difference(C.to_host(), expected);
      rows.push_back({"gemm", "gemm n=" + std::to_string(n), rung.name, ms, flops / (ms * 1e6), lib_ms / ms, err});
      print_row(rows.back());
    }
  }
}

// ---- Convolution: custom vs cuDNN on layers of well-known networks ------------
#ifdef NIB_CUDNN
struct Layer {
  const char* net;
  const char* name;
  kernels::Conv2dShape shape;
};

kernels::Conv2dShape conv(int64_t N, int64_t C, int64_t HW, int64_t K, int64_t RS, int64_t stride, int64_t pad,
                          int64_t groups = 1) {
  kernels::Conv2dShape s;
  s.N = N, s.C = C, s.H = s.W = HW, s.K = K, s.R = s.S = RS;
  s.stride_h = s.stride_w = stride;
  s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = pad;
  s.groups = groups;
  return s;
}

std::vector<Layer> layers(int64_t N, bool quick) {
  std::vector<Layer> all = {
      {"vgg16", "conv1_1", conv(N, 3, 224, 64, 3, 1, 1)},
      {"vgg16", "conv2_1", conv(N, 64, 112, 128, 3, 1, 1)},
      {"vgg16", "conv3_2", conv(N, 256, 56, 256, 3, 1, 1)},
      {"vgg16", "conv4_2", conv(N, 512, 28, 512, 3, 1, 1)},
      {"vgg16", "conv5_2", conv(N, 512, 14, 512, 3, 1, 1)},
      {"resnet18", "conv1", conv(N, 3, 224, 64, 7, 2, 3)},
      {"resnet18", "layer1.0.conv1", conv(N, 64, 56, 64, 3, 1, 1)},
      {"resnet18", "layer2.0.conv1", conv(N, 64, 56, 128, 3, 2, 1)},
      {"resnet18", "layer2.0.downsample", conv(N, 64, 56, 128, 1, 2, 0)},
      {"resnet18", "layer4.1.conv2", conv(N, 512, 7, 512, 3, 1, 1)},
      {"mobilenetv2", "features.0 (3x3 s2)", conv(N, 3, 224, 32, 3, 2, 1)},
      {"mobilenetv2", "features.1 dw 3x3", conv(N, 32, 112, 32, 3, 1, 1, 32)},
      {"mobilenetv2", "features.2 expand 1x1", conv(N, 16, 112, 96, 1, 1, 0)},
      {"mobilenetv2", "features.2 dw 3x3 s2", conv(N, 96, 112, 96, 3, 2, 1, 96)},
      {"mobilenetv2", "features.17 dw 3x3", conv(N, 960, 7, 960, 3, 1, 1, 960)},
      {"mobilenetv2", "features.17 project 1x1", conv(N, 960, 7, 320, 1, 1, 0)},
  };
  if (quick) all.resize(3);
  return all;
}
#endif

#ifdef NIB_CUDNN
void bench_conv(int64_t batch, bool quick, std::vector<Row>& rows) {
  for (const Layer& layer : layers(batch, quick)) {
    const kernels::Conv2dShape& s = layer.shape;
    const size_t xn = s.N * s.C * s.H * s.W, yn = s.N * s.K * s.P() * s.Q(), wn = s.K * s.C_per_group() * s.R * s.S;
    DeviceBuffer x(xn), w(wn), bias(s.K), gy(yn), out(std::max({xn, yn, wn})), out_lib(std::max({xn, yn, wn}));
    DeviceBuffer gbias(s.K);
    x.fill_random(3);
    w.fill_random(4);
    bias.fill_random(5);
    gy.fill_random(6);

    struct Pass {
      const char* name;
      size_t outputs;
      std::function<void(bool library, float* result)> run;
    };
    const std::vector<Pass> passes = {
        {"fwd", yn,
         [&](bool lib, float* y) {
           (lib ? kernels::library::conv2d_forward : kernels::custom::conv2d_forward)(s, x.ptr, w.ptr, bias.ptr, y);
         }},
        {"bwd data", xn,
         [&](bool lib, float* gx) {
           (lib ? kernels::library::conv2d_backward_data : kernels::custom::conv2d_backward_data)(s, gy.ptr, w.ptr,
                                                                                                  gx);
         }},
        {"bwd weight", wn,
         [&](bool lib, float* gw) {
           (lib ? kernels::library::conv2d_backward_weight : kernels::custom::conv2d_backward_weight)(
               s, x.ptr, gy.ptr, gw, gbias.ptr);
         }},
    };
    for (const Pass& pass : passes) {
      const std::string name = std::string(layer.net) + " " + layer.name + " " + pass.name;
      const double lib_ms = time_ms([&] { pass.run(true, out_lib.ptr); });
      const double ms = time_ms([&] { pass.run(false, out.ptr); });
      std::vector<float> ours = out.to_host(), theirs = out_lib.to_host();
      ours.resize(pass.outputs);
      theirs.resize(pass.outputs);
      const double err = relative_difference(ours, theirs);
      rows.push_back({"conv2d", name, "cudnn", lib_ms, s.flops() / (lib_ms * 1e6), 1.0, 0.0});
      print_row(rows.back());
      rows.push_back({"conv2d", name, "custom", ms, s.flops() / (ms * 1e6), lib_ms / ms, err});
      print_row(rows.back());
    }
  }
}

#else
void bench_conv(int64_t, bool, std::vector<Row>&) {
  std::printf("conv2d: skipped (nib was built without cuDNN, the library to race against)\n");
}
#endif

// ---- Results files --------------------------------------------------------------
std::string today() {
  std::time_t now = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", std::localtime(&now));
  return buf;
}

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void write_results(const std::string& dir, const std::string& device, const std::vector<Row>& rows) {
  std::filesystem::create_directories(dir);
  const std::string stem = dir + "/" + file_safe(device) + "_" + today();
  {
    std::ofstream json(stem + ".json");
    NIB_CHECK(json, "gpu bench: cannot write ", stem, ".json");
    json << "{\n  \"device\": \"" << json_escape(device) << "\",\n  \"date\": \"" << today()
         << "\",\n  \"results\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      json << "    {\"group\": \"" << r.group << "\", \"name\": \"" << json_escape(r.name) << "\", \"impl\": \""
           << r.impl << "\", \"ms\": " << r.ms << ", \"gflops\": " << r.gflops << ", \"vs_library\": "
           << r.vs_library << ", \"rel_error\": " << r.rel_error << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    json << "  ]\n}\n";
  }
  {
    std::ofstream md(stem + ".md");
    NIB_CHECK(md, "gpu bench: cannot write ", stem, ".md");
    md << "# GPU benchmark: " << device << ", " << today() << "\n\n"
       << "vs lib = library time / our time (1.00 = as fast as cuBLAS/cuDNN). "
       << "rel err = max |ours - library| / max(1, max |library|).\n\n"
       << "| benchmark | impl | ms | GFLOP/s | vs lib | rel err |\n|---|---|---:|---:|---:|---:|\n";
    char line[512];
    for (const Row& r : rows) {
      std::snprintf(line, sizeof(line), "| %s | %s | %.3f | %.1f | %.2f | %.1e |\n", r.name.c_str(), r.impl.c_str(),
                    r.ms, r.gflops, r.vs_library, r.rel_error);
      md << line;
    }
  }
  std::printf("\nwrote %s.json and %s.md\n", stem.c_str(), stem.c_str());
}

}  // namespace

int nib_gpu_bench(int argc, char** argv) {
  bool quick = false;
  int64_t batch = 16;
  std::string out_dir = "bench/results";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--batch" && i + 1 < argc) {
      batch = std::stoll(argv[++i]);
    } else if (arg == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else {
      std::fprintf(stderr, "gpu bench: unknown option '%s' (expected --quick, --batch N, --out DIR)\n", arg.c_str());
      return 2;
    }
  }
  if (!cuda::available()) {
    std::fprintf(stderr, "gpu bench: no usable GPU: %s\n", cuda::unavailable_reason().c_str());
    return 2;
  }
  const std::string device = cuda::device_name();
  std::printf("GPU benchmark on %s (FP32, TF32 off)\n\n", device.c_str());
  std::printf("%-44s %-10s %10s %10s %8s %10s\n", "benchmark", "impl", "ms", "GFLOP/s", "vs lib", "rel err");
  std::vector<Row> rows;
  bench_gemm(quick, rows);
  bench_conv(batch, quick, rows);
  write_results(out_dir, device, rows);
  return 0;
}
