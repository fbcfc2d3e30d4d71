#include "tensor/storage.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "device/cuda/runtime.h"
#include "util/error.h"

namespace nib {

namespace {

constexpr size_t kCpuAlignment = 64;

// Large CPU blocks are kept when their storage dies and handed to the next
// storage of the same rounded size. A network's forward and backward pass
// allocate the same sizes batch after batch; without the cache each large
// block comes from mmap and goes back with munmap, so every batch pays a page
// fault per 4 KiB of activations (a quarter of MobileNetV2's inference time
// on this project's CPU went to the kernel's page-fault path). Small blocks
// are left to malloc, which recycles them well.
constexpr size_t kCacheMinBytes = 128 * 1024;
constexpr size_t kCacheGranule = 64 * 1024;  // sizes are rounded up to this, so near sizes share blocks

class HostCache {
 public:
  HostCache() {
    // NIB_CPU_CACHE_MB: the most memory kept for reuse (0 turns the cache off);
    // default a quarter of the machine's memory, at most 4 GiB.
    const char* env = std::getenv("NIB_CPU_CACHE_MB");
    if (env && *env) {
      limit_ = static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
    } else {
      long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
      size_t quarter = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : 0;
      limit_ = std::min<size_t>(quarter, size_t{4} << 30);
    }
  }

  static size_t rounded(size_t bytes) {
    if (bytes < kCacheMinBytes) return (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    return (bytes + kCacheGranule - 1) / kCacheGranule * kCacheGranule;
  }

  void* take(size_t size) {
    if (size < kCacheMinBytes || limit_ == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= size;
    return p;
  }

  // Keeps the block, or returns false when it is small or the cache is full.
  bool give(void* p, size_t size) {
    if (size < kCacheMinBytes || limit_ == 0) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + size > limit_) return false;
    free_[size].push_back(p);
    cached_ += size;
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, limit_ = 0;
};

// Never destroyed: storages of static tensors may die after any static object.
HostCache& host_cache() {
  static HostCache* cache = new HostCache;
  return *cache;
}

}  // namespace

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    size_t size = HostCache::rounded(bytes == 0 ? 1 : bytes);
    data_ = host_cache().take(size);
    if (!data_) data_ = std::aligned_alloc(kCpuAlignment, size);
    NIB_CHECK(data_ != nullptr, "out of host memory allocating ", bytes, " bytes");
  } else {
    require_device(device);
    data_ = cuda::allocate(bytes);
  }
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    if (!host_cache().give(data_, HostCache::rounded(bytes_ == 0 ? 1 : bytes_))) std::free(data_);
  } else {
    cuda::release(data_);
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu())
    std::memcpy(dst, src, bytes);
  else if (dst_device.is_cuda() && src_device.is_cpu())
    cuda::copy(dst, src, bytes, cuda::CopyKind::HostToDevice);
  else if (dst_device.is_cpu() && src_device.is_cuda())
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToHost);
  else
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToDevice);
}

}  // namespace nib
