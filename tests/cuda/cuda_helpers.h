// Helpers for the CUDA tests: device buffers filled from host vectors,
// broadcast descriptions built from two shapes, and a scoped TF32 switch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/registry.h"
#include "tensor/cuda/runtime.h"
#include "tests/helpers.h"

namespace nib::testing {

// Device memory from nib's allocator, holding n elements of T.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n), data_(static_cast<T*>(cuda::allocate(n * sizeof(T)))) {}
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cuda::release(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() == n_);
    cuda::copy(data_, host.data(), n_ * sizeof(T), cuda::CopyKind::HostToDevice);
  }
  std::vector<T> to_host() const {
    std::vector<T> host(n_);
    cuda::copy(host.data(), data_, n_ * sizeof(T), cuda::CopyKind::DeviceToHost);  // waits for the stream
    return host;
  }

 private:
  size_t n_;
  T* data_;
};

// Sets kernels::allow_tf32() for one scope and restores the previous value,
// so a failing check cannot leave TF32 on for the tests that follow.
class ScopedAllowTf32 {
 public:
  explicit ScopedAllowTf32(bool allow) : saved_(kernels::allow_tf32()) { kernels::set_allow_tf32(allow); }
  ~ScopedAllowTf32() { kernels::set_allow_tf32(saved_); }
  ScopedAllowTf32(const ScopedAllowTf32&) = delete;
  ScopedAllowTf32& operator=(const ScopedAllowTf32&) = delete;

 private:
  bool saved_;
};

// Positive values in [lo, hi), for divisors and variances.
inline std::vector<float> random_positive(size_t n, uint64_t seed, float lo = 0.5f, float hi = 2.0f) {
  std::vector<float> v = random_vector(n, seed);
  for (auto& x : v) x = lo + (hi - lo) * (0.5f + 0.5f * std::tanh(x));
  return v;
}

inline int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// The broadcast of contiguous tensors of shapes a and b (NumPy's rule), as
// the elementwise ops describe it.
inline kernels::BroadcastShape broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  kernels::BroadcastShape s;
  int rank = static_cast<int>(std::max(a.size(), b.size()));
  s.ndim = rank;
  auto size_at = [&](const std::vector<int64_t>& shape, int d) {
    int offset = rank - static_cast<int>(shape.size());
    return d < offset ? int64_t{1} : shape[d - offset];
  };
  for (int d = 0; d < rank; ++d) s.out[d] = std::max(size_at(a, d), size_at(b, d));
  int64_t stride_a = 1, stride_b = 1;
  for (int d = rank - 1; d >= 0; --d) {
    int64_t sa = size_at(a, d), sb = size_at(b, d);
    s.a_stride[d] = sa == 1 ? 0 : stride_a;
    s.b_stride[d] = sb == 1 ? 0 : stride_b;
    stride_a *= sa;
    stride_b *= sb;
  }
  return s;
}

}  // namespace nib::testing
