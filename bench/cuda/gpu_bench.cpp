// `nib bench gpu` (see gpu_bench.h): reads the options, checks for a GPU,
// runs the groups asked for and writes the results. The groups live in
// gemm_bench.cpp, conv_bench.cpp, memory_bench.cpp and train_bench.cpp; the
// timer in timing.cpp; the device's peaks in device_info.cpp; the table,
// files and targets in results.cpp.
#include "bench/cuda/gpu_bench.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

#include "bench/cuda/groups.h"
#include "device/cuda/runtime.h"

using namespace nib::bench::gpu;

namespace {

const char* kUsage =
    "usage: nib bench gpu [--quick] [--headline] [--only gemm,conv,memory,train] [--repeats N] [--budget-ms MS]\n"
    "                     [--steps N] [--python PATH] [--pytorch-script PATH] [--out DIR]\n"
    "       nib bench gpu --info      the device, driver, CUDA, cuBLAS and cuDNN versions and the peaks\n";

const std::set<std::string> kGroups = {"gemm", "conv", "memory", "train"};

// "gemm,conv" -> {"gemm", "conv"}; false if a name is not a group.
bool parse_groups(const std::string& list, std::set<std::string>& groups) {
  groups.clear();
  std::stringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    if (!kGroups.count(item)) return false;
    groups.insert(item);
  }
  return !groups.empty();
}

}  // namespace

int nib_gpu_bench(int argc, char** argv) {
  Options options;
  std::set<std::string> groups = kGroups;
  std::string out_dir = "bench/results";
  bool steps_given = false, repeats_given = false;  // --quick lowers the defaults only
  bool info_only = false;
  std::string command = "nib bench gpu";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    try {
      if (arg == "--quick") {
        options.quick = true;
      } else if (arg == "--headline") {
        options.headline = true;
      } else if (arg == "--info") {
        info_only = true;
      } else if (arg == "--only" && has_value) {
        if (!parse_groups(argv[++i], groups)) {
          std::fprintf(stderr, "gpu bench: --only takes a list of gemm, conv, memory, train (got '%s')\n", argv[i]);
          return 2;
        }
      } else if (arg == "--repeats" && has_value) {
        options.timing.repeats = std::stoi(argv[++i]);
        repeats_given = true;
      } else if (arg == "--budget-ms" && has_value) {
        options.timing.budget_ms = std::stod(argv[++i]);
      } else if (arg == "--steps" && has_value) {
        options.train_steps = std::stoll(argv[++i]);
        steps_given = true;
      } else if (arg == "--python" && has_value) {
        options.python = argv[++i];
      } else if (arg == "--pytorch-script" && has_value) {
        options.pytorch_script = argv[++i];
      } else if (arg == "--out" && has_value) {
        out_dir = argv[++i];
      } else if (arg == "--help" || arg == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        std::fprintf(stderr, "gpu bench: unknown option '%s'\n%s", arg.c_str(), kUsage);
        return 2;
      }
    } catch (const std::exception&) {  // std::stoi and friends on a non-number
      std::fprintf(stderr, "gpu bench: %s needs a number, got '%s'\n", arg.c_str(), argv[i]);
      return 2;
    }
  }
  if (options.timing.repeats < 1 || options.timing.budget_ms <= 0 || options.train_steps < 1) {
    std::fprintf(stderr, "gpu bench: --repeats, --budget-ms and --steps must be positive\n");
    return 2;
  }
  if (options.quick) {
    if (!repeats_given) options.timing.repeats = 5;
    if (!steps_given) options.train_steps = 10;
  }

  if (!nib::cuda::available()) {
    std::fprintf(stderr, "gpu bench: no CUDA device: %s\n", nib::cuda::unavailable_reason().c_str());
    return 1;
  }

  if (info_only) {
    std::printf("%s\n", query_device().summary().c_str());
    return 0;
  }

  Results results(query_device());
  results.print_header();
  if (groups.count("gemm")) {
    bench_gemm(options, results);
    bench_linear(options, results);
  }
  if (groups.count("conv")) bench_conv(options, results);
  if (groups.count("memory")) bench_memory(options, results);
  if (groups.count("train")) bench_train(options, results);
  results.print_summary();
  const std::string stem = results.write(out_dir, command);
  std::printf("\nwrote %s.json and %s.md\n", stem.c_str(), stem.c_str());
  return 0;
}
