// The GPU a benchmark ran on: its name, the versions of everything between
// nib and the silicon, and its peak rates, which every timing is compared to
// ("% of peak").
#pragma once

#include <string>

namespace nib::bench::gpu {

struct DeviceInfo {
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;
  int sms = 0;                  // streaming multiprocessors
  int fp32_lanes_per_sm = 0;    // FP32 FMA units per SM (0: unknown architecture)
  double clock_ghz = 0;         // peak SM clock
  double memory_clock_ghz = 0;  // peak memory clock
  int memory_bus_bits = 0;
  double memory_gib = 0;
  double l2_bytes = 0;

  // Peaks, 0 where unknown. peak_fp32_gflops = SMs x lanes x 2 (an FMA is
  // two FLOPs) x clock. peak_tf32_gflops: dense TF32 tensor-core rate.
  // peak_gbps: 2 (double data rate) x memory clock x bus width / 8.
  double peak_fp32_gflops = 0;
  double peak_tf32_gflops = 0;
  double peak_gbps = 0;

  std::string kernel_driver;  // "580.65.06" from /proc/driver/nvidia/version, or "unknown"
  std::string driver_cuda;    // highest CUDA version the driver supports, "13.0"
  std::string runtime_cuda;   // the CUDA runtime nib links, "13.0"
  std::string cudnn;          // "9.10.2", or "not built with cuDNN"
  std::string cublas;         // "13.0.0"

  // Two lines for the top of the table: name, versions, peaks.
  std::string summary() const;
};

// Reads the current device (cuda::available() must be true).
DeviceInfo query_device();

}  // namespace nib::bench::gpu
