// Peaks are computed from attributes the driver reports, not from a table of
// product names: cudaDeviceGetAttribute(cudaDevAttrClockRate,
// cudaDevAttrMemoryClockRate, cudaDevAttrGlobalMemoryBusWidth). CUDA 13 took
// clockRate, memoryClockRate and memoryBusWidth out of cudaDeviceProp; the
// attributes remain and work on every CUDA version nib supports. Only what
// the driver does not report comes from a table by compute capability: the
// FP32 lanes per SM and the TF32 tensor-core rate per SM.
#include "bench/cuda/device_info.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "device/cuda/context.h"
#include "util/error.h"

namespace nib::bench::gpu {

namespace {

// FP32 FMA lanes per SM, from NVIDIA's architecture whitepapers.
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 7) return 64;                     // Volta, Turing
  if (major == 8) return minor == 0 ? 64 : 128;  // A100: 64; GA10x, Orin, Ada: 128
  if (major == 9) return 128;                    // Hopper
  if (major >= 10) return 128;                   // Blackwell
  return 0;
}

// Dense TF32 tensor-core FLOPs per SM per clock: the datasheet's dense TF32
// TFLOP/s divided by SMs x boost clock (A100: 156 T / (108 x 1.41 GHz);
// H100 SXM: 495 T / (132 x 1.83 GHz); RTX 3090 and 4090: 256). 0 = not
// known here (the TF32 rows then show no % of peak).
int tf32_flops_per_sm_clock(int major, int minor) {
  if (major == 8 && minor == 0) return 1024;
  if (major == 8 && (minor == 6 || minor == 9)) return 256;
  if (major == 9 && minor == 0) return 2048;
  return 0;
}

int attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  NIB_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
  return value;
}

// 13000 -> "13.0" (CUDA encodes versions as 1000 x major + 10 x minor).
std::string cuda_version(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

// The kernel module's version ("580.65.06"): what `nvidia-smi` calls the
// driver version. The CUDA API has no call for it; Linux exposes it here.
std::string kernel_driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  if (!std::getline(in, line)) return "unknown";
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 ..."
  const std::string marker = "Kernel Module";
  const size_t at = line.find(marker);
  if (at == std::string::npos) return "unknown";
  std::istringstream rest(line.substr(at + marker.size()));
  std::string version;
  rest >> version;
  return version.empty() ? "unknown" : version;
}

std::string cudnn_version() {
#ifdef NIB_CUDNN
  // cudnnGetVersion(): 9.x encodes major*10000 + minor*100 + patch, 8.x and
  // older major*1000 + minor*100 + patch.
  const size_t v = cudnnGetVersion();
  const size_t major = v >= 90000 ? v / 10000 : v / 1000;
  const size_t minor = v >= 90000 ? v % 10000 / 100 : v % 1000 / 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
#else
  return "not built with cuDNN";
#endif
}

std::string cublas_version() {
  int major = 0, minor = 0, patch = 0;
  NIB_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  NIB_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  NIB_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

DeviceInfo query_device() {
  int device = 0;
  NIB_CUDA_CHECK(cudaGetDevice(&device));
  const cudaDeviceProp& prop = cuda::properties();
  DeviceInfo d;
  d.name = prop.name;
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  d.sms = attribute(cudaDevAttrMultiProcessorCount, device);
  d.fp32_lanes_per_sm = fp32_lanes_per_sm(d.cc_major, d.cc_minor);
  d.clock_ghz = attribute(cudaDevAttrClockRate, device) * 1e-6;               // kHz -> GHz
  d.memory_clock_ghz = attribute(cudaDevAttrMemoryClockRate, device) * 1e-6;  // kHz -> GHz
  d.memory_bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  d.memory_gib = static_cast<double>(prop.totalGlobalMem) / (1 << 30);
  d.l2_bytes = attribute(cudaDevAttrL2CacheSize, device);

  d.peak_fp32_gflops = d.sms * d.fp32_lanes_per_sm * 2.0 * d.clock_ghz;
  d.peak_tf32_gflops = d.sms * tf32_flops_per_sm_clock(d.cc_major, d.cc_minor) * d.clock_ghz;
  d.peak_gbps = 2.0 * d.memory_clock_ghz * d.memory_bus_bits / 8.0;  // GHz x bytes = GB/s

  int driver = 0, runtime = 0;
  NIB_CUDA_CHECK(cudaDriverGetVersion(&driver));
  NIB_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  d.kernel_driver = kernel_driver_version();
  d.driver_cuda = cuda_version(driver);
  d.runtime_cuda = cuda_version(runtime);
  d.cudnn = cudnn_version();
  d.cublas = cublas_version();
  return d;
}

std::string DeviceInfo::summary() const {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%s (sm_%d%d, %d SMs at %.2f GHz, %.0f GiB), driver %s (CUDA %s), runtime %s, cuBLAS %s, cuDNN %s\n"
                "peaks: FP32 %.1f TFLOP/s, TF32 tensor cores %s, memory %.0f GB/s (%d-bit bus at %.2f GHz)",
                name.c_str(), cc_major, cc_minor, sms, clock_ghz, memory_gib, kernel_driver.c_str(),
                driver_cuda.c_str(), runtime_cuda.c_str(), cublas.c_str(), cudnn.c_str(), peak_fp32_gflops / 1e3,
                peak_tf32_gflops > 0 ? (std::to_string(static_cast<int>(peak_tf32_gflops / 1e3)) + " TFLOP/s").c_str()
                                     : "unknown",
                peak_gbps, memory_bus_bits, memory_clock_ghz);
  return buf;
}

}  // namespace nib::bench::gpu
