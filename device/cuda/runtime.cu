// The CUDA runtime as the rest of nib sees it (device/cuda/runtime.h): is
// there a usable GPU and why not, memory through the caching allocator, and
// copies on nib's stream.
#include <string>

#include "device/cuda/allocator.h"
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "device/cuda/runtime.h"
#include "util/error.h"

namespace nib::cuda {

namespace {

__global__ void probe_kernel(int* out) {
  if (out) *out = 1;
}

// Empty when the GPU is usable; otherwise why not. Checked once: the answer
// cannot change while the process runs.
std::string probe_device() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (err == cudaErrorNoDevice)
      return std::string("no CUDA GPU found (cudaGetDeviceCount: ") + cudaGetErrorString(err) + ")";
    int driver = 0;
    if (err == cudaErrorInsufficientDriver && (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0)) {
      cudaGetLastError();
      return std::string("no CUDA GPU found: no NVIDIA driver is installed (cudaGetDeviceCount: ") +
             cudaGetErrorString(err) + ")";
    }
    if (err == cudaErrorInsufficientDriver)
      return std::string("the NVIDIA driver is too old for this build's CUDA runtime (cudaGetDeviceCount: ") +
             cudaGetErrorString(err) + "); update the driver or build with an older CUDA toolkit";
    return std::string("no usable CUDA GPU (cudaGetDeviceCount: ") + cudaGetErrorString(err) + ")";
  }
  if (count == 0) return "no CUDA GPU found (cudaGetDeviceCount returned 0 devices)";

  // A GPU is there, but the kernels may not have been compiled for it
  // (CMAKE_CUDA_ARCHITECTURES): launch an empty kernel to find out now rather
  // than at the first op.
  kernels::cuda_detail::launch(probe_kernel, 1, 1, nullptr);
  err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  if (err != cudaSuccess) {
    cudaGetLastError();
    cudaDeviceProp p{};
    std::string gpu = "the GPU";
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess)
      gpu = str(p.name, " (sm_", p.major, p.minor, ")");
    else
      cudaGetLastError();
    if (err == cudaErrorNoKernelImageForDevice || err == cudaErrorUnsupportedPtxVersion)
      return str(gpu, " is not among the architectures nib was compiled for (", cudaGetErrorString(err),
                 "); reconfigure with -DCMAKE_CUDA_ARCHITECTURES=", p.major, p.minor);
    return str(gpu, " cannot run a kernel: ", cudaGetErrorString(err));
  }
  return "";
}

const std::string& probe_result() {
  static const std::string reason = probe_device();
  return reason;
}

cudaMemcpyKind to_cuda(CopyKind kind) {
  switch (kind) {
    case CopyKind::HostToDevice: return cudaMemcpyHostToDevice;
    case CopyKind::DeviceToHost: return cudaMemcpyDeviceToHost;
    case CopyKind::DeviceToDevice: return cudaMemcpyDeviceToDevice;
  }
  return cudaMemcpyDefault;
}

}  // namespace

bool built_with_cuda() { return true; }

bool available() { return probe_result().empty(); }

std::string unavailable_reason() {
  const std::string& reason = probe_result();
  return reason.empty() ? "the CUDA GPU is available" : reason;
}

std::string device_name() {
  if (!available()) return "none";
  const cudaDeviceProp& p = properties();
  return str(p.name, " (sm_", p.major, p.minor, ", ", (p.totalGlobalMem >> 20) / 1024.0, " GiB)");
}

int multiprocessor_count() { return available() ? properties().multiProcessorCount : 0; }

void* allocate(size_t bytes) {
  NIB_CHECK(available(), "cuda::allocate: ", unavailable_reason());
  return allocator().allocate(bytes);
}
void release(void* ptr) { allocator().release(ptr); }

void copy(void* dst, const void* src, size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
  // On nib's stream, so the copy is ordered after the kernels that produced
  // src. From pageable host memory, cudaMemcpyAsync returns once the source
  // has been staged, so the caller may reuse it at once.
  NIB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, to_cuda(kind), stream()));
  // The host reads dst as soon as we return: wait for the copy. The GPU is
  // idle then, which is when errors kernels found in their input are looked at.
  if (kind == CopyKind::DeviceToHost) {
    NIB_CUDA_CHECK(cudaStreamSynchronize(stream()));
    check_device_errors();
  }
}

void synchronize() {
  NIB_CUDA_CHECK(cudaStreamSynchronize(stream()));
  check_device_errors();
}

MemoryStats memory_stats() { return allocator().stats(); }
void reset_peak_memory() { allocator().reset_peak(); }
void empty_cache() { allocator().empty_cache(); }

}  // namespace nib::cuda
