// The CUDA runtime as the rest of nib sees it: plain C++ with no CUDA headers,
// so CPU-only builds compile the same code. With NIB_CUDA off these functions
// are stubs (runtime_stub.cpp) that report "built without CUDA".
#pragma once

#include <cstddef>
#include <string>

namespace nib::cuda {

bool built_with_cuda();
// True when a usable GPU is present. Cheap after the first call.
bool available();
// Why available() is false, in words a user can act on.
std::string unavailable_reason();
std::string device_name();
// Streaming multiprocessors of the GPU (0 without one): grid sizes scale with it.
int multiprocessor_count();

// Memory from the caching allocator (allocator.cpp). Throws nib::Error on
// out-of-memory with the requested size and what is in use.
void* allocate(size_t bytes);
void release(void* ptr);

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
void copy(void* dst, const void* src, size_t bytes, CopyKind kind);
void synchronize();

struct MemoryStats {
  size_t in_use = 0;     // bytes handed out to tensors now
  size_t cached = 0;     // bytes held by the allocator for reuse
  size_t peak = 0;       // largest in_use seen
  size_t device_total = 0;
};
MemoryStats memory_stats();
void reset_peak_memory();
// Gives cached blocks back to the driver.
void empty_cache();

}  // namespace nib::cuda
