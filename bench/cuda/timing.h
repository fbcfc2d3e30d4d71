// What every GPU benchmark case needs: device buffers filled with random
// numbers, a timer that reports the median over repeats measured with CUDA
// events, and a comparison of two results.
//
// Only bench/cuda/*.cpp include this header (it pulls in the CUDA runtime).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "device/cuda/context.h"

namespace nib::bench::gpu {

// An array on the GPU from nib's caching allocator, returned on scope exit.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t count)
      : count_(count), ptr_(static_cast<T*>(cuda::allocate(sizeof(T) * (count ? count : 1)))) {}
  ~DeviceArray() { cuda::release(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return ptr_; }
  size_t count() const { return count_; }
  void upload(const std::vector<T>& host) {
    cuda::copy(ptr_, host.data(), sizeof(T) * count_, cuda::CopyKind::HostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    cuda::copy(host.data(), ptr_, sizeof(T) * count_, cuda::CopyKind::DeviceToHost);
    return host;
  }

 private:
  size_t count_;
  T* ptr_;
};
using DeviceBuffer = DeviceArray<float>;

// Uniform values in [lo, hi), reproducible from the seed. Uniform rather than
// normal: generating 100 M normal floats on the host takes seconds; the
// timings do not depend on the distribution.
void fill_uniform(DeviceBuffer& buffer, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
void fill_value(DeviceBuffer& buffer, float value);
// Integers in [0, bound): class labels.
void fill_labels(DeviceArray<int32_t>& labels, uint64_t seed, int32_t bound);

struct TimingOptions {
  int repeats = 10;          // timed samples wanted (each sample: calls_per_sample calls)
  double budget_ms = 2000;   // stop early (after at least 3 samples) once this much GPU time is spent
  double min_sample_ms = 1;  // short calls are repeated within a sample until it lasts this long
};

struct Timing {
  double median_ms = 0;  // median over samples of the time per call
  int samples = 0;
  int calls_per_sample = 1;
};

// Times `call` (which must only enqueue work on cuda::stream()).
//
//   1. Warm-up: one call, untimed (module loading, cuDNN heuristics, the
//      caching allocator's first allocations), then one timed call to size
//      the run.
//   2. Samples: each is a pair of CUDA events around calls_per_sample calls,
//      so that a 5 µs kernel is timed over ~1 ms rather than at the events'
//      resolution (~0.5 µs). All samples are enqueued before the first wait,
//      so the GPU runs them back to back.
//   3. The median over samples, per call: a clock boost or another process
//      touches a few samples, the median ignores them.
//
// Event times are GPU time: what the host spends launching is invisible
// unless the GPU runs out of work, which happens for kernels shorter than
// their launch cost (a few µs); such rows measure launch latency.
Timing time_gpu(const std::function<void()>& call, const TimingOptions& options);

// max |ours - theirs| / max(1, max |theirs|); infinity if ours has a NaN
// or the sizes differ.
double relative_difference(const std::vector<float>& ours, const std::vector<float>& theirs);

}  // namespace nib::bench::gpu
