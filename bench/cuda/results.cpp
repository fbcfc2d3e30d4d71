#include "bench/cuda/results.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "bench/bench_common.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::bench::gpu {

namespace {

std::string format(const char* fmt, double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string case_name(const Row& r) { return r.model + " " + r.layer + (r.pass.empty() ? "" : " " + r.pass); }

std::string peak_text(const Results& results, const Row& r) {
  const double pct = results.percent_of_peak(r);
  if (!std::isfinite(pct)) return "-";
  return format("%.1f", pct) + (r.bound == Bound::Memory ? " M" : r.tf32 ? " T" : " F");
}

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

json::Value number_or_null(double v) { return std::isfinite(v) ? json::Value(v) : json::Value(); }

// Sum over passes of the library's time / sum of nib's, per layer, for the
// conv rows `selected` picks (TF32 off). Layers missing a pass are skipped.
std::map<std::string, double> fwd_bwd_ratio_per_layer(const std::vector<Row>& rows, const std::string& model,
                                                      const std::string& kind) {
  struct Sums {
    double nib = 0, library = 0;
    int nib_passes = 0, library_passes = 0;
  };
  std::map<std::string, Sums> by_layer;
  for (const Row& r : rows) {
    if (r.group != "conv" || r.model != model || r.kind != kind || r.tf32) continue;
    Sums& s = by_layer[r.layer];
    if (r.impl == "cuda") s.nib += r.ms, ++s.nib_passes;
    if (r.impl == "cudnn") s.library += r.ms, ++s.library_passes;
  }
  std::map<std::string, double> ratios;
  for (const auto& [layer, s] : by_layer)
    if (s.nib_passes == 3 && s.library_passes == 3) ratios[layer] = s.library / s.nib;
  return ratios;
}

Target judge_layers(const std::string& goal, const std::map<std::string, double>& ratios, double want,
                    size_t expected) {
  if (ratios.empty()) return {goal, "not measured", "not measured"};
  auto worst =
      std::min_element(ratios.begin(), ratios.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  size_t meeting = 0;
  for (const auto& [layer, ratio] : ratios) meeting += ratio >= want;
  std::string measured = std::to_string(meeting) + " of " + std::to_string(ratios.size()) + " layers meet it; worst " +
                         worst->first + " " + format("%.2fx", worst->second);
  if (worst->second < want) return {goal, measured, "not met"};
  // Met on the layers run so far (--quick runs a few): say so.
  if (ratios.size() < expected) return {goal, measured, "met on a subset"};
  return {goal, measured, "met"};
}

}  // namespace

double Results::percent_of_peak(const Row& r) const {
  double peak = r.bound == Bound::Memory ? device_.peak_gbps
                : r.tf32                 ? device_.peak_tf32_gflops
                                         : device_.peak_fp32_gflops;
  if (peak <= 0) return NAN;
  return 100.0 * (r.bound == Bound::Memory ? r.gbps() : r.gflops()) / peak;
}

void Results::print_header() const {
  std::printf("GPU benchmark: %s\n\n", device_.summary().c_str());
  std::printf("%-44s %-12s %10s %10s %8s %8s %7s %9s\n", "case", "impl", "ms", "GFLOP/s", "GB/s", "%peak", "vs lib",
              "rel err");
  std::fflush(stdout);
}

void Results::add(Row row) {
  const bool new_case = rows_.empty() || rows_.back().model != row.model || rows_.back().layer != row.layer;
  if (new_case) std::printf("-- %s %s: %s\n", row.model.c_str(), row.layer.c_str(), row.shape.c_str());
  std::printf("%-44s %-12s %10.4f %10s %8s %8s %7s %9s\n", case_name(row).c_str(), row.impl.c_str(), row.ms,
              row.flops > 0 ? format("%.1f", row.gflops()).c_str() : "-", format("%.1f", row.gbps()).c_str(),
              peak_text(*this, row).c_str(), format("%.2f", row.vs_library).c_str(),
              format("%.1e", row.rel_error).c_str());
  std::fflush(stdout);
  rows_.push_back(std::move(row));
}

void Results::add(TrainRow row) { train_.push_back(std::move(row)); }

void Results::print_summary() const {
  if (!train_.empty()) {
    std::printf("\nEnd to end: one training step of the basic CNN (images/s, higher is better)\n");
    std::printf("%8s %14s %14s %14s %16s %16s\n", "batch", "nib cuda", "nib cudnn+cublas", "PyTorch", "cuda/PyTorch",
                "libs/PyTorch");
    for (const TrainRow& t : train_)
      std::printf("%8lld %14s %14s %14s %16s %16s\n", static_cast<long long>(t.batch),
                  format("%.0f", t.cuda_images_per_s).c_str(), format("%.0f", t.libraries_images_per_s).c_str(),
                  format("%.0f", t.pytorch_images_per_s).c_str(),
                  format("%.2f", t.cuda_images_per_s / t.pytorch_images_per_s).c_str(),
                  format("%.2f", t.libraries_images_per_s / t.pytorch_images_per_s).c_str());
    std::printf("PyTorch: %s\n", train_.front().pytorch.c_str());
  }
  std::printf("\nTargets (from the CUDA-backend issue; reported, not tested):\n");
  for (const Target& t : judge_targets(*this))
    std::printf("  %-18s %-50s %s\n", ("[" + t.verdict + "]").c_str(), t.goal.c_str(), t.measured.c_str());
}

std::vector<Target> judge_targets(const Results& results) {
  const std::vector<Row>& rows = results.rows();
  std::vector<Target> targets;

  {  // GEMM
    const std::string goal = "GEMM fp32 >= 0.9x cuBLAS at n=4096";
    auto it = std::find_if(rows.begin(), rows.end(),
                           [](const Row& r) { return r.group == "gemm" && r.layer == "n=4096" && r.impl == "cuda"; });
    if (it == rows.end() || !std::isfinite(it->vs_library))
      targets.push_back({goal, "not measured", "not measured"});
    else
      targets.push_back({goal, format("%.2fx", it->vs_library), it->vs_library >= 0.9 ? "met" : "not met"});
  }
  targets.push_back(judge_layers("conv fwd+bwd >= 0.8x cuDNN on every VGG16 layer",
                                 fwd_bwd_ratio_per_layer(rows, "vgg16", "conv"), 0.8, 13));
  targets.push_back(judge_layers("depthwise fwd+bwd >= 1.0x cuDNN (MobileNetV2)",
                                 fwd_bwd_ratio_per_layer(rows, "mobilenetv2", "depthwise"), 1.0, 10));
  {  // Memory-bound: only rows that move well beyond the L2 cache measure DRAM.
    const std::string goal = "memory-bound ops >= 80% of peak bandwidth";
    const double min_bytes = 4 * results.device().l2_bytes;
    const Row* worst = nullptr;
    double worst_pct = INFINITY;
    int counted = 0, meeting = 0;
    for (const Row& r : rows) {
      if (r.bound != Bound::Memory || r.library || r.bytes < min_bytes) continue;
      const double pct = results.percent_of_peak(r);
      if (!std::isfinite(pct)) continue;
      ++counted;
      meeting += pct >= 80.0;
      if (pct < worst_pct) worst_pct = pct, worst = &r;
    }
    if (!worst) {
      targets.push_back({goal, "not measured", "not measured"});
    } else {
      targets.push_back({goal,
                         std::to_string(meeting) + " of " + std::to_string(counted) +
                             " nib rows moving >= 4x L2 meet it; worst " + case_name(*worst) + " " +
                             format("%.1f%%", worst_pct),
                         worst_pct >= 80.0 ? "met" : "not met"});
    }
  }
  {  // End to end
    const std::string goal = "basic-CNN training >= 1.5x PyTorch eager images/s";
    std::string measured;
    bool any = false, all_met = true;
    for (const TrainRow& t : results.train_rows()) {
      const double ratio = t.cuda_images_per_s / t.pytorch_images_per_s;
      if (!std::isfinite(ratio)) continue;
      any = true;
      all_met = all_met && ratio >= 1.5;
      measured += (measured.empty() ? "" : ", ") + std::string("batch ") + std::to_string(t.batch) + " " +
                  format("%.2fx", ratio);
    }
    if (!any)
      targets.push_back({goal, "not measured", "not measured"});
    else
      targets.push_back({goal, measured, all_met ? "met" : "not met"});
  }
  return targets;
}

std::string Results::write(const std::string& dir, const std::string& command_line) const {
  std::filesystem::create_directories(dir);
  const std::string date = today();
  const std::string stem = dir + "/" + file_safe(device_.name) + "_" + date;
  const std::vector<Target> targets = judge_targets(*this);

  // ---- JSON: everything, raw numbers (derived columns included for convenience).
  json::Value v = json::Value::object();
  v["benchmark"] = "nib bench gpu";
  v["command"] = command_line;
  v["date"] = date;
  json::Value dev = json::Value::object();
  dev["name"] = device_.name;
  dev["compute_capability"] = std::to_string(device_.cc_major) + "." + std::to_string(device_.cc_minor);
  dev["sms"] = device_.sms;
  dev["clock_ghz"] = device_.clock_ghz;
  dev["memory_gib"] = device_.memory_gib;
  dev["l2_bytes"] = device_.l2_bytes;
  dev["peak_fp32_gflops"] = device_.peak_fp32_gflops;
  dev["peak_tf32_gflops"] = number_or_null(device_.peak_tf32_gflops > 0 ? device_.peak_tf32_gflops : NAN);
  dev["peak_gbps"] = device_.peak_gbps;
  dev["driver"] = device_.kernel_driver;
  dev["driver_cuda"] = device_.driver_cuda;
  dev["runtime_cuda"] = device_.runtime_cuda;
  dev["cublas"] = device_.cublas;
  dev["cudnn"] = device_.cudnn;
  v["device"] = std::move(dev);
  json::Value ops = json::Value::array();
  for (const Row& r : rows_) {
    json::Value o = json::Value::object();
    o["group"] = r.group;
    o["model"] = r.model;
    o["layer"] = r.layer;
    o["kind"] = r.kind;
    o["pass"] = r.pass;
    o["shape"] = r.shape;
    o["impl"] = r.impl;
    o["library"] = r.library;
    o["tf32"] = r.tf32;
    o["bound"] = r.bound == Bound::Memory ? "memory" : "compute";
    o["ms"] = r.ms;
    o["samples"] = r.samples;
    o["flops"] = r.flops;
    o["bytes"] = r.bytes;
    o["gflops"] = number_or_null(r.flops > 0 ? r.gflops() : NAN);
    o["gbps"] = r.gbps();
    o["percent_of_peak"] = number_or_null(percent_of_peak(r));
    o["vs_library"] = number_or_null(r.vs_library);
    o["rel_error"] = number_or_null(r.rel_error);
    ops.as_array().push_back(std::move(o));
  }
  v["ops"] = std::move(ops);
  json::Value train = json::Value::array();
  for (const TrainRow& t : train_) {
    json::Value o = json::Value::object();
    o["batch"] = t.batch;
    o["nib_cuda_images_per_s"] = number_or_null(t.cuda_images_per_s);
    o["nib_libraries_images_per_s"] = number_or_null(t.libraries_images_per_s);
    o["pytorch_images_per_s"] = number_or_null(t.pytorch_images_per_s);
    o["pytorch"] = t.pytorch;
    o["cuda_over_pytorch"] = number_or_null(t.cuda_images_per_s / t.pytorch_images_per_s);
    train.as_array().push_back(std::move(o));
  }
  v["train_step"] = std::move(train);
  json::Value goals = json::Value::array();
  for (const Target& t : targets) {
    json::Value o = json::Value::object();
    o["goal"] = t.goal;
    o["measured"] = t.measured;
    o["verdict"] = t.verdict;
    goals.as_array().push_back(std::move(o));
  }
  v["targets"] = std::move(goals);
  write_file_atomic(stem + ".json", json::dump(v, 2) + "\n");

  // ---- Markdown: the same, for reading.
  std::ostringstream md;
  md << "# GPU benchmark: " << device_.name << ", " << date << "\n\n"
     << "- device: " << device_.name << ", sm_" << device_.cc_major << device_.cc_minor << ", " << device_.sms
     << " SMs at " << format("%.2f", device_.clock_ghz) << " GHz, " << format("%.0f", device_.memory_gib) << " GiB\n"
     << "- driver " << device_.kernel_driver << " (CUDA " << device_.driver_cuda << "), CUDA runtime "
     << device_.runtime_cuda << ", cuBLAS " << device_.cublas << ", cuDNN " << device_.cudnn << "\n"
     << "- peaks: FP32 " << format("%.1f", device_.peak_fp32_gflops / 1e3) << " TFLOP/s (F), TF32 tensor cores "
     << (device_.peak_tf32_gflops > 0 ? format("%.0f", device_.peak_tf32_gflops / 1e3) + " TFLOP/s" : "unknown")
     << " (T), memory " << format("%.0f", device_.peak_gbps) << " GB/s (M)\n"
     << "- command: `" << command_line << "`\n\n"
     << "Times are medians over repeats after a warm-up, measured with CUDA events. "
     << "vs lib = library time / nib time (1.00 = as fast as cuBLAS/cuDNN; TF32 rows against the TF32 library). "
     << "% peak: of the FP32 (F), TF32 (T) or memory bandwidth (M) peak. "
     << "rel err = max |ours - library| / max(1, max |library|). See bench/README.md.\n\n";

  md << "## Targets\n\n| target | measured | verdict |\n|---|---|---|\n";
  for (const Target& t : targets) md << "| " << t.goal << " | " << t.measured << " | **" << t.verdict << "** |\n";

  if (!train_.empty()) {
    md << "\n## End to end: basic-CNN training step (images/s)\n\n"
       << "| batch | nib cuda | nib cudnn+cublas | PyTorch | cuda / PyTorch | cudnn+cublas / PyTorch |\n"
       << "|---:|---:|---:|---:|---:|---:|\n";
    for (const TrainRow& t : train_)
      md << "| " << t.batch << " | " << format("%.0f", t.cuda_images_per_s) << " | "
         << format("%.0f", t.libraries_images_per_s) << " | " << format("%.0f", t.pytorch_images_per_s) << " | "
         << format("%.2f", t.cuda_images_per_s / t.pytorch_images_per_s) << " | "
         << format("%.2f", t.libraries_images_per_s / t.pytorch_images_per_s) << " |\n";
    md << "\nPyTorch: " << train_.front().pytorch << "\n";
  }

  const char* headings[][2] = {{"gemm", "Square GEMM"},
                               {"linear", "Linear layers (GEMM)"},
                               {"conv", "Convolutions"},
                               {"memory", "Memory-bound ops"}};
  for (const auto& [group, heading] : headings) {
    if (std::none_of(rows_.begin(), rows_.end(), [&](const Row& r) { return r.group == group; })) continue;
    md << "\n## " << heading << "\n\n"
       << "| model | layer | pass | shape | impl | ms | GFLOP/s | GB/s | % peak | vs lib | rel err |\n"
       << "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|\n";
    for (const Row& r : rows_) {
      if (r.group != group) continue;
      md << "| " << r.model << " | " << r.layer << " | " << r.pass << " | " << r.shape << " | " << r.impl << " | "
         << format("%.4f", r.ms) << " | " << (r.flops > 0 ? format("%.1f", r.gflops()) : "-") << " | "
         << format("%.1f", r.gbps()) << " | " << peak_text(*this, r) << " | " << format("%.2f", r.vs_library) << " | "
         << format("%.1e", r.rel_error) << " |\n";
    }
  }
  write_file_atomic(stem + ".md", md.str());
  return stem;
}

}  // namespace nib::bench::gpu
