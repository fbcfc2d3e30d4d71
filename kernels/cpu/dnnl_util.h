// What the oneDNN variants (kernels/cpu/*_dnnl.cpp) share: one CPU engine,
// a stream per thread, float memory over nib's own buffers, the plan cache
// and oneDNN's errors turned into nib::Error. Built only when CMake found
// oneDNN (NIB_DNNL; cmake/layers.cmake leaves these files out otherwise).
//
// oneDNN's C++ API lives in the global namespace ::dnnl; nib's variants live
// in nib::kernels::dnnl, so inside them oneDNN is always spelled ::dnnl.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

namespace nib::kernels::dnnl_util {

// The one CPU engine every oneDNN primitive of nib is made for.
const ::dnnl::engine& engine();

// Float memory described by `md` over a buffer nib owns (nothing is copied).
::dnnl::memory wrap(const ::dnnl::memory::desc& md, const float* data);
::dnnl::memory wrap(const ::dnnl::memory::desc& md, void* data);

// Runs `primitive` on this thread's stream and waits for it.
void execute(const ::dnnl::primitive& primitive, const std::unordered_map<int, ::dnnl::memory>& args);

// Throws nib::Error "<op>: oneDNN: <what> (status N)".
[[noreturn]] void fail(const char* op, const ::dnnl::error& e);

// Runs `body` holding `cache`'s lock (see PlanCache), turning oneDNN's
// errors into nib::Error naming `op`: how every dnnl entry point runs.
template <class Cache, class Body>
void locked(Cache& cache, const char* op, Body body) {
  try {
    std::lock_guard<std::mutex> lock(cache.mutex());
    body();
  } catch (const ::dnnl::error& e) {
    fail(op, e);
  }
}

// Plans (descriptors and primitives) of one op family, keyed by every field
// of the problem: made on a shape's first call, reused after. At most
// kMaxPlans shapes; when full it starts over. The caller holds mutex() for
// the whole call, so a plan is never used by two threads at once nor
// dropped while in use (as cuDNN's plan cache, kernels/cuda/conv2d_cudnn.cpp).
template <class Plan, size_t N>
class PlanCache {
 public:
  using Key = std::array<int64_t, N>;
  static constexpr size_t kMaxPlans = 256;

  std::mutex& mutex() { return mutex_; }
  // The plan for `key`, made by make() (a std::unique_ptr<Plan>) if new.
  template <class Make>
  Plan& get(const Key& key, Make make) {
    auto it = plans_.find(key);
    if (it != plans_.end()) return *it->second;
    if (plans_.size() >= kMaxPlans) plans_.clear();
    return *plans_.emplace(key, make()).first->second;
  }

 private:
  std::mutex mutex_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace nib::kernels::dnnl_util
