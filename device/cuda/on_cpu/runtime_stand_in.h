// The CUDA runtime API that nib calls, on the host (part of cuda_on_cpu.h).
//
// Device memory is host memory from a simulated H200: allocations are
// 256-byte aligned like cudaMalloc's and fail with cudaErrorMemoryAllocation
// beyond the device's 141 GiB, without touching the host's memory. Every call
// completes before it returns, kernel launches included, so there is one
// order of events and streams are only names.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorUnsupportedPtxVersion = 222,
};

inline const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorNoKernelImageForDevice: return "cudaErrorNoKernelImageForDevice";
    case cudaErrorUnsupportedPtxVersion: return "cudaErrorUnsupportedPtxVersion";
  }
  return "cudaErrorUnknown";
}

inline const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorNoKernelImageForDevice: return "no kernel image is available for execution on the device";
    case cudaErrorUnsupportedPtxVersion: return "the provided PTX was compiled with an unsupported toolchain";
  }
  return "unknown error";
}

// The fields nib reads, with an H200's values.
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int multiProcessorCount;
  int major;
  int minor;
};

enum cudaDeviceAttr { cudaDevAttrComputeCapabilityMajor = 75 };
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
struct CUstream_st {};
using cudaStream_t = CUstream_st*;

namespace nib::cuda_on_cpu {

inline cudaDeviceProp simulated_device() {
  cudaDeviceProp p{};
  std::strcpy(p.name, "NVIDIA H200 (simulated on the CPU by cuda_on_cpu)");
  p.totalGlobalMem = size_t{141} << 30;
  p.sharedMemPerBlock = 48 << 10;
  p.warpSize = 32;
  p.maxThreadsPerBlock = 1024;
  p.multiProcessorCount = 132;
  p.major = 9;
  p.minor = 0;
  return p;
}

// What a kernel launch or an asynchronous call left for cudaGetLastError.
inline cudaError_t& last_error() {
  thread_local cudaError_t err = cudaSuccess;
  return err;
}

class DeviceMemory {
 public:
  static DeviceMemory& get() {
    static DeviceMemory memory;
    return memory;
  }
  cudaError_t allocate(void** ptr, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bytes > simulated_device().totalGlobalMem - in_use_) return cudaErrorMemoryAllocation;
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
    if (!p) return cudaErrorMemoryAllocation;
    sizes_[p] = bytes;
    in_use_ += bytes;
    *ptr = p;
    return cudaSuccess;
  }
  cudaError_t release(void* ptr) {
    if (!ptr) return cudaSuccess;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(ptr);
    if (it == sizes_.end()) return cudaErrorInvalidValue;
    in_use_ -= it->second;
    sizes_.erase(it);
    std::free(ptr);
    return cudaSuccess;
  }
  size_t in_use() {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<void*, size_t> sizes_;
  size_t in_use_ = 0;
};

}  // namespace nib::cuda_on_cpu

inline cudaError_t cudaGetLastError() {
  cudaError_t err = nib::cuda_on_cpu::last_error();
  nib::cuda_on_cpu::last_error() = cudaSuccess;
  return err;
}
inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
inline cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return cudaErrorInvalidValue;
  *p = nib::cuda_on_cpu::simulated_device();
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0 || attr != cudaDevAttrComputeCapabilityMajor) return cudaErrorInvalidValue;
  *value = nib::cuda_on_cpu::simulated_device().major;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned /*flags*/) {
  static CUstream_st the_stream;
  *stream = &the_stream;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

inline cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  return nib::cuda_on_cpu::DeviceMemory::get().allocate(ptr, bytes);
}
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
inline cudaError_t cudaFree(void* ptr) { return nib::cuda_on_cpu::DeviceMemory::get().release(ptr); }
inline cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  *total_bytes = nib::cuda_on_cpu::simulated_device().totalGlobalMem;
  *free_bytes = *total_bytes - nib::cuda_on_cpu::DeviceMemory::get().in_use();
  return cudaSuccess;
}

// Null pointers are refused as CUDA refuses them (cudaErrorInvalidValue).
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t = nullptr) {
  if (bytes && (!dst || !src)) return cudaErrorInvalidValue;
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                     size_t height, cudaMemcpyKind, cudaStream_t = nullptr) {
  if (width > dpitch || width > spitch || (width && height && (!dst || !src))) return cudaErrorInvalidValue;
  for (size_t row = 0; row < height; ++row)
    std::memmove(static_cast<char*>(dst) + row * dpitch, static_cast<const char*>(src) + row * spitch, width);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t = nullptr) {
  if (bytes && !dst) return cudaErrorInvalidValue;
  if (bytes) std::memset(dst, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* dst, int value, size_t bytes) { return cudaMemsetAsync(dst, value, bytes); }
