// The caching allocator (see allocator.h for why it exists and how it works).
#include "device/cuda/allocator.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "device/cuda/context.h"
#include "util/error.h"

namespace nib::cuda {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

size_t round_up(size_t bytes, size_t step) { return (bytes + step - 1) / step * step; }

// "12.5" : one decimal, never scientific notation.
std::string format_units(size_t bytes, double unit) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(bytes) / unit);
  return text;
}
}  // namespace

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes <= kSmallLimit) return round_up(std::max<size_t>(bytes, 1), kSmallStep);
  return round_up(bytes, kLargeStep);
}

void* CachingAllocator::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  if (bytes > (size_t{1} << 62)) {  // rounding would overflow; no device has this much memory
    std::lock_guard<std::mutex> lock(mutex_);
    throw_out_of_memory(bytes);
  }
  size_t rounded = round_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* ptr = nullptr;
  auto it = free_.find(rounded);
  if (it != free_.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    cached_ -= rounded;
  } else {
    ptr = device_malloc(rounded);
    if (ptr == nullptr) throw_out_of_memory(bytes);
  }
  live_[ptr] = rounded;
  in_use_ += rounded;
  peak_ = std::max(peak_, in_use_);
  return ptr;
}

void CachingAllocator::release(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  NIB_CHECK(it != live_.end(), "cuda::release: ", ptr, " was not allocated by nib's CUDA allocator (or was released twice)");
  size_t rounded = it->second;
  live_.erase(it);
  in_use_ -= rounded;
  cached_ += rounded;
  free_[rounded].push_back(ptr);
}

// Returns nullptr when the device is out of memory even after emptying the
// cache; any other failure throws.
void* CachingAllocator::device_malloc(size_t rounded) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    void* ptr = nullptr;
    cudaError_t err = cudaMalloc(&ptr, rounded);
    if (err == cudaSuccess) return ptr;
    if (err != cudaErrorMemoryAllocation) throw_cuda_error(err, "cudaMalloc", __FILE__, __LINE__);
    cudaGetLastError();  // an allocation failure is not sticky; clear it so later checks do not see it
    if (attempt == 0) empty_cache_locked();
  }
  return nullptr;
}

void CachingAllocator::throw_out_of_memory(size_t requested) const {
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();
  // cached_ is what is left after the cache was emptied for the retry (normally 0).
  fail("CUDA out of memory: tried to allocate ", format_units(requested, kMiB), " MiB (in use ",
       format_units(in_use_, kMiB), " MiB, cached ", format_units(cached_, kMiB), " MiB, device total ",
       format_units(total_bytes, kGiB), " GiB, free ", format_units(free_bytes, kMiB),
       " MiB). Try a smaller batch size, or check what else uses the GPU (nvidia-smi).");
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  MemoryStats s;
  s.in_use = in_use_;
  s.cached = cached_;
  s.peak = peak_;
  size_t free_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &s.device_total) != cudaSuccess) {
    cudaGetLastError();
    s.device_total = 0;
  }
  return s;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_ = in_use_;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  if (cached_ == 0) return;
  // Queued kernels may still use a block released on the host; wait for them
  // before the memory goes back to the driver.
  NIB_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto& [size, blocks] : free_) {
    for (void* ptr : blocks) NIB_CUDA_CHECK(cudaFree(ptr));
    blocks.clear();
  }
  free_.clear();
  cached_ = 0;
}

CachingAllocator& allocator() {
  // Never destroyed: tensors held in statics may be released during exit,
  // after a destroyed allocator would be gone (see also context.cpp).
  static CachingAllocator* instance = new CachingAllocator();
  return *instance;
}

}  // namespace nib::cuda
