// A caching allocator for device memory.
//
// Why: cudaMalloc and cudaFree are slow (tens of microseconds to
// milliseconds) and cudaFree synchronises the whole device, which would stall
// the host after every kernel that frees a temporary. A training step
// allocates and frees the same sizes over and over (activations, gradients,
// workspaces), so freed blocks are kept in per-size free lists and handed
// out again; the driver is asked only when no cached block of that size
// exists.
//
// Sizes are rounded up to a size class, so that near-equal requests share
// blocks: 512 B steps up to 1 MiB ("small"), 2 MiB steps above ("large").
// A free list holds blocks of exactly one class; there is no splitting or
// merging of blocks, which keeps the allocator short and obviously correct
// at the cost of some memory (at most 2 MiB per large block).
//
// Reuse is safe without events because nib runs every kernel on one stream:
// a block released on the host may still be in use by queued kernels, but
// whoever receives it next can only use it from kernels queued after those.
//
// On out-of-memory the cache is given back to the driver and the request is
// retried once; if it still fails, a nib::Error names the request and the
// memory situation.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "device/cuda/runtime.h"

namespace nib::cuda {

class CachingAllocator {
 public:
  static constexpr size_t kSmallStep = 512;
  static constexpr size_t kLargeStep = size_t{2} << 20;
  static constexpr size_t kSmallLimit = size_t{1} << 20;  // requests up to here round to kSmallStep

  // The size class of a request: the bytes actually reserved for it.
  static size_t round_size(size_t bytes);

  // nullptr for 0 bytes. Throws nib::Error on out-of-memory.
  void* allocate(size_t bytes);
  // Returns the block to its free list. Throws on a pointer it did not hand out.
  void release(void* ptr);

  MemoryStats stats() const;  // in_use and cached count whole size classes
  void reset_peak();
  // Frees every cached (not in-use) block, after the device has finished with them.
  void empty_cache();

 private:
  void* device_malloc(size_t rounded);  // cudaMalloc, with one retry after emptying the cache
  void empty_cache_locked();
  [[noreturn]] void throw_out_of_memory(size_t requested) const;

  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;  // size class -> blocks ready for reuse
  std::unordered_map<void*, size_t> live_;      // block handed out -> its size class
  size_t in_use_ = 0, cached_ = 0, peak_ = 0;
};

// The process-wide allocator behind cuda::allocate and cuda::release.
CachingAllocator& allocator();

}  // namespace nib::cuda
