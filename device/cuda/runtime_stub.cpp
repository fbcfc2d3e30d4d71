// The CUDA runtime when nib is built without CUDA (NIB_CUDA=OFF or no nvcc):
// every entry point explains that, so `--device cuda` fails with a clear
// message instead of a link error or a crash.
#include "device/cuda/runtime.h"
#include "util/error.h"

namespace nib::cuda {

namespace {
[[noreturn]] void unavailable() { fail(unavailable_reason()); }
}  // namespace

bool built_with_cuda() { return false; }
bool available() { return false; }
std::string unavailable_reason() {
  return "nib was built without CUDA (configure with -DNIB_CUDA=ON on a machine with the CUDA toolkit)";
}
std::string device_name() { return "none"; }
int multiprocessor_count() { return 0; }
void* allocate(size_t) { unavailable(); }
void release(void*) {}
void copy(void*, const void*, size_t, CopyKind) { unavailable(); }
void synchronize() {}
MemoryStats memory_stats() { return {}; }
void reset_peak_memory() {}
void empty_cache() {}

}  // namespace nib::cuda
