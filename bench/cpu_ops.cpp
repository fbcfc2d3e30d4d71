// `nib bench cpu` (see cpu_ops.h). Kernels are called directly, not through
// the ops, so the numbers are the kernels' own: no shape checks, no
// allocation of outputs, no autograd bookkeeping. Where nib was built with
// oneDNN, its "dnnl" variants race too (conv2d, max pool, batch norm).
#include "bench/cpu_ops.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"
#include "kernels/gelu.h"
#include "kernels/gemm.h"
#include "kernels/pool.h"
#include "kernels/softmax.h"
#include "util/args.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::bench {

namespace {

namespace ref = kernels::reference;
namespace fast = kernels::fast;

#ifdef NIB_DNNL
constexpr bool kHaveDnnl = true;
// The oneDNN variant of a kernel, for the cases below; nullptr where nib was
// built without oneDNN (the cases then have no dnnl closure).
#define NIB_DNNL_FN(name) kernels::dnnl::name
#else
constexpr bool kHaveDnnl = false;
#define NIB_DNNL_FN(name) nullptr
#endif

// Random inputs: the values do not change the speed of these kernels, but
// they must be finite and not all equal (max pool would always pick the first).
std::vector<float> random_buffer(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(gen);
  return v;
}

// One line of the table: the same work done by both implementations.
struct Case {
  std::string op, shape, pass;
  double flops = 0;  // > 0: compute-bound, report GFLOP/s
  double bytes = 0;  // otherwise: memory-bound, report GB/s
  std::function<void()> reference, fast;
  std::function<void()> dnnl = {};  // empty: no oneDNN variant (or nib built without oneDNN)
};

struct Row {
  Case c;
  Timing reference, fast, dnnl;  // repeats == 0: not run
};

std::string dims(std::initializer_list<int64_t> values) {
  std::string out;
  for (int64_t v : values) {
    if (!out.empty()) out += 'x';
    out += std::to_string(v);
  }
  return out;
}

// ---- The cases ------------------------------------------------------------------

void add_gemm(std::vector<Case>& cases, int64_t n) {
  auto a = std::make_shared<std::vector<float>>(random_buffer(n * n, 1));
  auto b = std::make_shared<std::vector<float>>(random_buffer(n * n, 2));
  auto c = std::make_shared<std::vector<float>>(n * n);
  auto run = [=](kernels::GemmFn* gemm) {
    return [=] { gemm(false, false, n, n, n, 1.0f, a->data(), n, b->data(), n, 0.0f, c->data(), n); };
  };
  cases.push_back({"gemm", dims({n, n, n}), "C = A·B", 2.0 * n * n * n, 0, run(ref::gemm), run(fast::gemm)});
}

void add_conv(std::vector<Case>& cases, const std::string& name, const kernels::Conv2dProblem& s) {
  const size_t x_size = s.N * s.C * s.H * s.W, y_size = s.N * s.K * s.P * s.Q;
  const size_t w_size = s.K * s.C_per_group * s.R * s.S;
  auto x = std::make_shared<std::vector<float>>(random_buffer(x_size, 3));
  auto w = std::make_shared<std::vector<float>>(random_buffer(w_size, 4));
  auto bias = std::make_shared<std::vector<float>>(random_buffer(s.K, 5));
  auto gy = std::make_shared<std::vector<float>>(random_buffer(y_size, 6));
  auto y = std::make_shared<std::vector<float>>(y_size);
  auto gx = std::make_shared<std::vector<float>>(x_size);
  auto gw = std::make_shared<std::vector<float>>(w_size);
  auto gb = std::make_shared<std::vector<float>>(s.K);
  auto forward = [=](kernels::Conv2dForwardFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] { f(s, x->data(), w->data(), bias->data(), y->data()); };
  };
  auto data = [=](kernels::Conv2dBackwardDataFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] { f(s, gy->data(), w->data(), gx->data()); };
  };
  auto weight = [=](kernels::Conv2dBackwardWeightFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] { f(s, x->data(), gy->data(), gw->data(), gb->data()); };
  };
  std::string shape = dims({s.N, s.C, s.H, s.W}) + " k" + dims({s.K, s.R, s.S}) +
                      (s.stride_h > 1 ? " s" + std::to_string(s.stride_h) : "") +
                      (s.groups > 1 ? " g" + std::to_string(s.groups) : "");
  cases.push_back({"conv2d " + name, shape, "forward", s.flops(), 0, forward(ref::conv2d_forward),
                   forward(fast::conv2d_forward), forward(NIB_DNNL_FN(conv2d_forward))});
  cases.push_back({"conv2d " + name, shape, "backward data", s.flops(), 0, data(ref::conv2d_backward_data),
                   data(fast::conv2d_backward_data), data(NIB_DNNL_FN(conv2d_backward_data))});
  cases.push_back({"conv2d " + name, shape, "backward weight", s.flops(), 0, weight(ref::conv2d_backward_weight),
                   weight(fast::conv2d_backward_weight), weight(NIB_DNNL_FN(conv2d_backward_weight))});
}

void add_max_pool(std::vector<Case>& cases, const std::string& name, int64_t N, int64_t C, int64_t HW) {
  kernels::Pool2dShape s;
  s.N = N, s.C = C, s.H = s.W = HW;  // 2x2, stride 2
  const size_t x_size = N * C * HW * HW, y_size = N * C * s.P() * s.Q();
  auto x = std::make_shared<std::vector<float>>(random_buffer(x_size, 7));
  auto gy = std::make_shared<std::vector<float>>(random_buffer(y_size, 8));
  auto y = std::make_shared<std::vector<float>>(y_size);
  auto gx = std::make_shared<std::vector<float>>(x_size);
  auto argmax = std::make_shared<std::vector<int32_t>>(y_size);
  fast::max_pool_forward(s, x->data(), y->data(), argmax->data());  // valid winners for the backward
  auto forward = [=](kernels::MaxPoolForwardFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] { f(s, x->data(), y->data(), argmax->data()); };
  };
  auto backward = [=](kernels::MaxPoolBackwardFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] { f(s, gy->data(), argmax->data(), gx->data()); };
  };
  std::string shape = dims({N, C, HW, HW}) + " 2x2 s2";
  // Bytes: read x, write y and argmax; backward: read gy and argmax, write gx.
  cases.push_back({"max_pool " + name, shape, "forward", 0, 4.0 * (x_size + 2 * y_size),
                   forward(ref::max_pool_forward), forward(fast::max_pool_forward), forward(NIB_DNNL_FN(max_pool_forward))});
  cases.push_back({"max_pool " + name, shape, "backward", 0, 4.0 * (x_size + 2 * y_size),
                   backward(ref::max_pool_backward), backward(fast::max_pool_backward),
                   backward(NIB_DNNL_FN(max_pool_backward))});
}

void add_batchnorm(std::vector<Case>& cases, int64_t N, int64_t C, int64_t HW) {
  kernels::BatchNormShape s{N, C, HW};
  const size_t size = N * C * HW;
  auto x = std::make_shared<std::vector<float>>(random_buffer(size, 9));
  auto gy = std::make_shared<std::vector<float>>(random_buffer(size, 10));
  auto y = std::make_shared<std::vector<float>>(size);
  auto gx = std::make_shared<std::vector<float>>(size);
  auto gamma = std::make_shared<std::vector<float>>(C, 1.0f);
  auto beta = std::make_shared<std::vector<float>>(C, 0.0f);
  auto running = std::make_shared<std::vector<float>>(4 * C, 1.0f);  // mean, var, save_mean, save_invstd
  // (Each closure holds the shared_ptrs, not raw pointers: the buffers must
  // live as long as the closures do.)
  auto forward = [=](kernels::BatchNormForwardTrainFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] {
      float* r = running->data();
      f(s, x->data(), gamma->data(), beta->data(), 1e-5f, 0.1f, r, r + C, y->data(), r + 2 * C, r + 3 * C);
    };
  };
  auto backward = [=](kernels::BatchNormBackwardTrainFn* f) -> std::function<void()> {
    if (!f) return {};
    return [=] {
      float* r = running->data();
      f(s, x->data(), gy->data(), gamma->data(), r + 2 * C, r + 3 * C, gx->data(), r, r + C);
    };
  };
  std::string shape = dims({N, C, HW}) + " (N, C, HW)";
  cases.push_back({"batchnorm", shape, "forward (train)", 0, 4.0 * 2 * size, forward(ref::batchnorm_forward_train),
                   forward(fast::batchnorm_forward_train), forward(NIB_DNNL_FN(batchnorm_forward_train))});
  cases.push_back({"batchnorm", shape, "backward (train)", 0, 4.0 * 3 * size, backward(ref::batchnorm_backward_train),
                   backward(fast::batchnorm_backward_train), backward(NIB_DNNL_FN(batchnorm_backward_train))});
}

void add_softmax(std::vector<Case>& cases, int64_t rows, int64_t cols) {
  const size_t size = rows * cols;
  auto x = std::make_shared<std::vector<float>>(random_buffer(size, 11));
  auto gy = std::make_shared<std::vector<float>>(random_buffer(size, 12));
  auto y = std::make_shared<std::vector<float>>(size);
  auto gx = std::make_shared<std::vector<float>>(size);
  fast::softmax_forward(rows, cols, x->data(), y->data(), false);
  auto forward = [=](kernels::SoftmaxForwardFn* f) { return [=] { f(rows, cols, x->data(), y->data(), false); }; };
  auto backward = [=](kernels::SoftmaxBackwardFn* f) {
    return [=] { f(rows, cols, y->data(), gy->data(), gx->data(), false); };
  };
  std::string shape = dims({rows, cols});
  cases.push_back({"softmax", shape, "forward", 0, 4.0 * 2 * size, forward(ref::softmax_forward),
                   forward(fast::softmax_forward)});
  cases.push_back({"softmax", shape, "backward", 0, 4.0 * 3 * size, backward(ref::softmax_backward),
                   backward(fast::softmax_backward)});
}

// [gelu-bench]
// GELU on a MobileNet-sized activation: memory-bound, so reported in GB/s
// (the forward reads x and writes y; the backward reads x and gy, writes gx).
void add_gelu(std::vector<Case>& cases, int64_t n) {
  auto x = std::make_shared<std::vector<float>>(random_buffer(n, 13));
  auto gy = std::make_shared<std::vector<float>>(random_buffer(n, 14));
  auto out = std::make_shared<std::vector<float>>(n);
  auto forward = [=](kernels::GeluForwardFn* f) { return [=] { f(n, x->data(), out->data()); }; };
  auto backward = [=](kernels::GeluBackwardFn* f) { return [=] { f(n, x->data(), gy->data(), out->data()); }; };
  cases.push_back({"gelu", dims({n}), "forward", 0, 4.0 * 2 * n, forward(ref::gelu_forward),
                   forward(fast::gelu_forward)});
  cases.push_back({"gelu", dims({n}), "backward", 0, 4.0 * 3 * n, backward(ref::gelu_backward),
                   backward(fast::gelu_backward)});
}
// [/gelu-bench]

std::vector<Case> all_cases(bool quick) {
  std::vector<Case> cases;
  for (int64_t n : quick ? std::vector<int64_t>{256} : std::vector<int64_t>{256, 512, 1024}) add_gemm(cases, n);
  // The default basic CNN (models/basic_cnn.h) on MNIST, batch 128.
  add_conv(cases, "mnist conv1", square_conv(128, 1, 28, 32, 5, 1, 0));
  add_conv(cases, "mnist conv2", square_conv(128, 32, 12, 64, 5, 1, 0));
  add_max_pool(cases, "mnist pool1", 128, 32, 24);
  if (!quick) {
    // ImageNet networks at batch 8, 224x224 images.
    add_conv(cases, "vgg16 conv1_1", square_conv(8, 3, 224, 64, 3, 1, 1));
    add_conv(cases, "vgg16 conv3_1", square_conv(8, 128, 56, 256, 3, 1, 1));
    add_conv(cases, "vgg16 conv5_1", square_conv(8, 512, 14, 512, 3, 1, 1));
    add_conv(cases, "mobilenet_v2 expand 1x1", square_conv(8, 24, 56, 144, 1, 1, 0));
    add_conv(cases, "mobilenet_v2 depthwise", square_conv(8, 144, 56, 144, 3, 1, 1, 144));
    add_conv(cases, "mobilenet_v2 depthwise s2", square_conv(8, 144, 56, 144, 3, 2, 1, 144));
    add_conv(cases, "mobilenet_v2 project 1x1", square_conv(8, 144, 28, 32, 1, 1, 0));
    add_max_pool(cases, "vgg16 pool1", 8, 64, 224);
  }
  add_batchnorm(cases, 8, 144, 56 * 56);
  add_softmax(cases, 1024, 1000);
  add_gelu(cases, int64_t{8} * 144 * 56 * 56);
  return cases;
}

// ---- Output -------------------------------------------------------------------------

double rate(const Case& c, const Timing& t) { return (c.flops > 0 ? c.flops : c.bytes) / t.median_s / 1e9; }
const char* unit(const Case& c) { return c.flops > 0 ? "GFLOP/s" : "GB/s"; }

// "12.34" or `none` where the timing did not run.
std::string ms_or(const Timing& t, const char* none) {
  if (t.repeats == 0) return none;
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", t.median_s * 1e3);
  return text;
}
std::string rate_or(const Case& c, const Timing& t) {
  if (t.repeats == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", rate(c, t));
  return text;
}
// How many times faster fast is than `other` ("-" where other did not run).
std::string ratio_or(const Timing& other, const Timing& fast) {
  if (other.repeats == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), other.median_s / fast.median_s < 10 ? "%.2fx" : "%.1fx",
                other.median_s / fast.median_s);
  return text;
}

std::string table_line(const Row& r, bool markdown) {
  char line[640];
  const char* format = markdown ? "| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s |"
                                : "%-30s %-26s %-18s %10s %9s %10.2f %9.2f %10s %9s %-8s %8s %9s";
  const char* no_dnnl = r.c.dnnl ? "skipped" : "-";
  if (markdown)
    std::snprintf(line, sizeof(line), format, r.c.op.c_str(), r.c.shape.c_str(), r.c.pass.c_str(),
                  ms_or(r.reference, "skipped").c_str(), rate_or(r.c, r.reference).c_str(), r.fast.median_s * 1e3,
                  rate(r.c, r.fast), ms_or(r.dnnl, no_dnnl).c_str(), rate_or(r.c, r.dnnl).c_str(), unit(r.c),
                  ratio_or(r.reference, r.fast).c_str(), ratio_or(r.dnnl, r.fast).c_str());
  else
    std::snprintf(line, sizeof(line), format, r.c.op.c_str(), r.c.shape.c_str(), r.c.pass.c_str(),
                  ms_or(r.reference, "skipped").c_str(), rate_or(r.c, r.reference).c_str(), r.fast.median_s * 1e3,
                  rate(r.c, r.fast), ms_or(r.dnnl, no_dnnl).c_str(), rate_or(r.c, r.dnnl).c_str(), unit(r.c),
                  ratio_or(r.reference, r.fast).c_str(), ratio_or(r.dnnl, r.fast).c_str());
  return line;
}

void write_results(const std::string& dir, const std::string& name, const std::vector<Row>& rows, int threads,
                   const std::string& load_before) {
  make_dirs(dir);
  const std::string stem = dir + "/" + name;
  json::Value doc = json::Value::object();
  doc["cpu"] = cpu_description();
  doc["threads"] = threads;
  doc["date"] = today();
  const std::string load_after = load_average();
  doc["load_average_before"] = load_before;
  doc["load_average_after"] = load_after;
  doc["timing"] = "median seconds per call after one warm-up call";
  doc["dnnl"] = kHaveDnnl ? "built with oneDNN: the dnnl variants raced" : "built without oneDNN: no dnnl variants";
  json::Value results = json::Value::array();
  for (const Row& r : rows) {
    json::Value v = json::Value::object();
    v["op"] = r.c.op;
    v["shape"] = r.c.shape;
    v["pass"] = r.c.pass;
    v["unit"] = unit(r.c);
    v["fast_s"] = r.fast.median_s;
    v["fast_rate"] = rate(r.c, r.fast);
    if (r.reference.repeats > 0) {
      v["reference_s"] = r.reference.median_s;
      v["reference_rate"] = rate(r.c, r.reference);
      v["fast_over_reference"] = r.reference.median_s / r.fast.median_s;
    }
    if (r.dnnl.repeats > 0) {
      v["dnnl_s"] = r.dnnl.median_s;
      v["dnnl_rate"] = rate(r.c, r.dnnl);
      v["fast_over_dnnl"] = r.dnnl.median_s / r.fast.median_s;
    }
    results.as_array().push_back(v);
  }
  doc["results"] = results;
  doc["measured_on_loaded_machine"] = !loaded_machine_warning({load_before, load_after}).empty();
  write_file_atomic(stem + ".json", json::dump(doc, 2) + "\n");

  std::string md = std::string("# CPU ops: reference vs fast") + (kHaveDnnl ? " vs dnnl (oneDNN)" : "") + "\n\n" +
                   loaded_machine_warning({load_before, load_after}) + cpu_description() + ", " +
                   std::to_string(threads) + " OpenMP threads, " + today() +
                   ". Load average (1, 5, 15 min) before: " + load_before + ", after: " + load_after +
                   ".\n\nMedian time per call after a warm-up; GFLOP/s for convolutions and GEMM, GB/s (each "
                   "tensor read or written once) for the memory-bound ops. fast/ref = reference time / fast "
                   "time; fast/dnnl = dnnl time / fast time (above 1: nib's fast kernel wins; below 1: oneDNN "
                   "wins). \"skipped\": the reference was not run on calls above --ref-limit GFLOP; dnnl \"-\": "
                   "no oneDNN variant" +
                   (kHaveDnnl ? "" : " (nib was built without oneDNN)") +
                   ".\n\n"
                   "| op | shape | pass | ref ms | ref rate | fast ms | fast rate | dnnl ms | dnnl rate | unit | "
                   "fast/ref | fast/dnnl |\n"
                   "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n";
  for (const Row& r : rows) md += table_line(r, true) + "\n";
  write_file_atomic(stem + ".md", md);
  std::printf("\nwrote %s.json and %s.md\n", stem.c_str(), stem.c_str());
}

// Whether `op` contains one of the comma-separated texts of `only` ("" matches everything).
bool selected(const std::string& op, const std::string& only) {
  if (only.empty()) return true;
  size_t start = 0;
  while (start <= only.size()) {
    const size_t comma = std::min(only.find(',', start), only.size());
    const std::string text = only.substr(start, comma - start);
    if (!text.empty() && op.find(text) != std::string::npos) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace

int cpu_ops(int argc, char** argv) {
  Args args(argc, argv, 3, {"quick", "no-dnnl"});
  const bool quick = args.flag("quick");
  const bool race_dnnl = !args.flag("no-dnnl");
  const int64_t threads = args.get_int("threads", 0);
  const double ref_limit = args.get_double("ref-limit", 2.0);
  const double budget = args.get_double("budget", quick ? 0.2 : 0.5);
  const std::string out = args.get("out", "bench/results");
  const std::string only = args.get("only", "");
  const std::string name = args.get("name", "cpu_ops_" + today());
  args.finish();
  NIB_CHECK(threads >= 0, "--threads must not be negative");
  NIB_CHECK(!name.empty() && name.find('/') == std::string::npos, "--name is a file name without folders, got '",
            name, "'");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));

  const std::string load_before = load_average();
  std::printf("CPU ops on %s, %d OpenMP threads, load average %s%s\n\n", cpu_description().c_str(),
              omp_get_max_threads(), load_before.c_str(),
              kHaveDnnl ? "" : " (nib was built without oneDNN: no dnnl column)");
  std::printf("%-30s %-26s %-18s %10s %9s %10s %9s %10s %9s %-8s %8s %9s\n", "op", "shape", "pass", "ref ms",
              "ref rate", "fast ms", "fast rate", "dnnl ms", "dnnl rate", "unit", "fast/ref", "fast/dnnl");
  std::vector<Row> rows;
  for (Case& c : all_cases(quick)) {
    if (!selected(c.op, only)) continue;
    Row row{c, {}, {}, {}};
    row.fast = time_median(c.fast, budget);
    if (c.dnnl && race_dnnl) row.dnnl = time_median(c.dnnl, budget);
    if (c.flops <= ref_limit * 1e9) row.reference = time_median(c.reference, budget);
    std::printf("%s\n", table_line(row, false).c_str());
    std::fflush(stdout);
    rows.push_back(std::move(row));
  }
  write_results(out, name, rows, omp_get_max_threads(), load_before);
  return 0;
}

}  // namespace nib::bench
