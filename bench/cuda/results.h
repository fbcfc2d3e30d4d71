// The GPU benchmark's results: one Row per (case, implementation), one
// TrainRow per end-to-end batch size; the table printed as rows arrive, and
// the JSON and Markdown files written at the end, with the targets of the
// CUDA-backend issue marked met / not met.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "bench/cuda/device_info.h"

namespace nib::bench::gpu {

// Which peak a row is measured against.
enum class Bound { Compute, Memory };

struct Row {
  std::string group;     // "gemm", "linear", "conv", "memory"
  std::string model;     // "square", "basic-cnn", "vgg16", "mobilenetv2", "large"
  std::string layer;     // "n=4096", "conv3_2", "features.2 dw", "max pool 2x2"
  std::string kind;      // conv: "conv", "depthwise", "pointwise"; otherwise = group
  std::string pass;      // "fwd", "bwd-data", "bwd-weight", "bwd", "step"
  std::string shape;     // "32x256x56x56 -> 256, 3x3 s1"
  std::string impl;      // "cuda", "cuda-tf32", "naive", ..., "cublas", "cublas-tf32", "cudnn", "cudnn-tf32"
  bool library = false;  // cuBLAS / cuDNN (a baseline, not nib's own)
  bool tf32 = false;
  Bound bound = Bound::Compute;
  double flops = 0;  // per call; 0 for memory-bound ops
  double bytes = 0;  // the least traffic the op needs per call (see README)
  double ms = 0;     // median per call
  int samples = 0;
  double vs_library = NAN;  // library ms / this ms (same TF32 setting); NaN: no library to compare
  double rel_error = NAN;   // vs the library's output (TF32 off); NaN: not compared

  double gflops() const { return flops / (ms * 1e6); }
  double gbps() const { return bytes / (ms * 1e6); }
};

struct TrainRow {
  int64_t batch = 0;
  double cuda_images_per_s = NAN;   // nib, kernels "cuda"
  double libraries_images_per_s = NAN;  // nib, kernels "cudnn,cublas"
  double pytorch_images_per_s = NAN;  // NaN: PyTorch not available
  std::string pytorch;                // "pytorch 2.5.1" or "not available (reason)"
};

class Results {
 public:
  explicit Results(DeviceInfo device) : device_(std::move(device)) {}

  const DeviceInfo& device() const { return device_; }
  // % of the peak that bounds this row (FP32 or TF32 FLOP/s, or bandwidth); NaN when unknown.
  double percent_of_peak(const Row& r) const;

  void print_header() const;
  // Adds and prints a row.
  void add(Row row);
  void add(TrainRow row);
  // Prints the end-to-end table and the targets.
  void print_summary() const;
  // Writes DIR/<device>_<date>.json and .md; returns the stem.
  std::string write(const std::string& dir, const std::string& command_line) const;

  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<TrainRow>& train_rows() const { return train_; }

 private:
  DeviceInfo device_;
  std::vector<Row> rows_;
  std::vector<TrainRow> train_;
};

// A target of the issue, judged from the results.
struct Target {
  std::string goal;      // "GEMM fp32 >= 0.9x cuBLAS at n=4096"
  std::string measured;  // "0.93x" / "worst conv4_1 0.71x, all 13 layers ..." / "not measured"
  std::string verdict;   // "met", "met on a subset" (--quick), "not met", "not measured"
};
std::vector<Target> judge_targets(const Results& results);

}  // namespace nib::bench::gpu
