// Helpers for the CUDA tests: device buffers filled from host vectors,
// broadcast descriptions built from two shapes, pooling shapes, scoped TF32
// and kernel-selection switches, and a finite-difference gradient check
// whose function runs on the GPU.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "device/cuda/runtime.h"
#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "kernels/registry.h"
#include "tests/helpers.h"

namespace nib::testing {

// cuBLAS and cuDNN (the "cublas" and "cudnn" implementations) exist only for a GPU: the
// CUDA-on-CPU build (tests/cuda_on_cpu) has neither. Tests of them are
// marked NIB_NEEDS_GPU_LIBRARIES, which doctest then reports as skipped, and
// tests that loop over implementations take gpu_impls().
#ifdef NIB_CUDA_ON_CPU
inline constexpr bool kGpuLibrariesBuilt = false;
#else
inline constexpr bool kGpuLibrariesBuilt = true;
#endif
#define NIB_NEEDS_GPU_LIBRARIES *doctest::skip(!::nib::testing::kGpuLibrariesBuilt)

// NVIDIA's libraries wherever a family has one: cuDNN, else cuBLAS.
inline constexpr const char* kLibraries = "cudnn,cublas";

inline std::vector<const char*> gpu_impls() {
  if (kGpuLibrariesBuilt) return {"cuda", kLibraries};
  return {"cuda"};
}

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

// What `family` runs on the GPU when `impls` ("cuda", or a list such as
// "cudnn,cublas") is asked for everywhere: the first of them it has, else
// its default, "cuda".
inline std::string impl_for(const std::string& family, const std::string& impls) {
  std::stringstream list(impls);
  for (std::string impl; std::getline(list, impl, ',');)
    if (kernels::has_impl(family, impl)) return impl;
  return "cuda";
}

// Every op family a model's step uses, forced to impl_for(family, impls) on
// the GPU for one scope. The CPU keeps its default, since no CPU
// implementation has a GPU implementation's name.
class UseEverywhere {
 public:
  explicit UseEverywhere(const std::string& impls) {
    for (const char* family : {"activation", "batchnorm", "conv2d", "dropout", "elementwise", "gelu", "gemm", "optim",
                               "pool", "reduce", "softmax"})
      if (const std::string impl = impl_for(family, impls); kernels::has_impl(family, impl))  // linked in
        uses_.push_back(std::make_unique<kernels::Use>(family, impl));
  }

 private:
  std::vector<std::unique_ptr<kernels::Use>> uses_;
};

// Positive values in [lo, hi), for divisors and variances.
inline std::vector<float> random_positive(size_t n, uint64_t seed, float lo = 0.5f, float hi = 2.0f) {
  std::vector<float> v = random_vector(n, seed);
  for (auto& x : v) x = lo + (hi - lo) * (0.5f + 0.5f * std::tanh(x));
  return v;
}

// Sizes that hit the edges of the launch logic: 1 element, fewer than a warp
// (7), just over a warp (33), and one and a half times what a capped grid
// covers in one stride (grid_for: 32 blocks of 256 threads per SM, 1.6
// million on an H100 or H200), odd so that no power of two divides it.
inline std::vector<int64_t> edge_sizes() {
  const int64_t one_stride = int64_t{32} * 256 * nib::cuda::multiprocessor_count();
  return {1, 7, 33, one_stride * 3 / 2 + 1};
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

// A pooling shape with a square kernel and stride.
inline kernels::Pool2dShape pool_shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t k, int64_t stride,
                                       int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right) {
  kernels::Pool2dShape s;
  s.N = N, s.C = C, s.H = H, s.W = W;
  s.kernel_h = s.kernel_w = k;
  s.stride_h = s.stride_w = stride;
  s.pad_top = pad_top, s.pad_bottom = pad_bottom, s.pad_left = pad_left, s.pad_right = pad_right;
  return s;
}

// Odd planes, padding on some sides only (TF 'SAME'), stride larger than the
// kernel (inputs no window covers), overlapping windows, a 1x1 kernel.
// "N2 C3 7x9 k3x3 s2x2 pad t1 b1 l1 r1": a pool shape for CAPTURE.
inline std::string pool_shape_text(const kernels::Pool2dShape& s) {
  return str("N", s.N, " C", s.C, " ", s.H, "x", s.W, " k", s.kernel_h, "x", s.kernel_w, " s", s.stride_h, "x",
             s.stride_w, " pad t", s.pad_top, " b", s.pad_bottom, " l", s.pad_left, " r", s.pad_right);
}

inline std::vector<kernels::Pool2dShape> pool_shapes() {
  return {pool_shape(1, 1, 1, 1, 1, 1, 0, 0, 0, 0), pool_shape(2, 3, 7, 9, 3, 2, 1, 1, 1, 1),
          pool_shape(1, 2, 8, 8, 2, 2, 0, 0, 0, 0), pool_shape(2, 1, 9, 11, 2, 3, 0, 0, 0, 0),
          pool_shape(3, 5, 6, 5, 3, 1, 1, 1, 1, 1), pool_shape(1, 4, 7, 7, 2, 2, 0, 1, 0, 1),
          pool_shape(2, 3, 13, 10, 3, 2, 1, 0, 0, 1), pool_shape(8, 64, 32, 32, 3, 2, 1, 1, 1, 1)};
}

// x with NaNs in pairs of neighbours (positions i % 13 == 2 and 3): some
// pooling windows hold two NaNs (which one wins then matters), one, or none.
inline std::vector<float> with_nan_pairs(std::vector<float> x) {
  for (size_t i = 0; i < x.size(); ++i)
    if (i % 13 == 2 || i % 13 == 3) x[i] = NAN;
  return x;
}

// a == b element by element, where a NaN equals a NaN (for exact results
// such as maxima, which may be NaN).
inline bool same_or_both_nan(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// check_gradients (tests/helpers.h) with f running on the GPU.
//
// `inputs` are CPU tensors, the master copies; f only ever sees CUDA copies
// of them. The analytic gradient: each input with requires_grad becomes a
// CUDA leaf that requires gradients, f runs, and the backward of
// L = sum(f * R) (R a fixed random projection) runs on the GPU; the
// gradients are copied back. The numeric one: each value of a master is
// moved by +-eps on the host, all inputs are copied to the device again, f
// runs there without a graph, and L is accumulated in double on the host
// from the copied-back output. A kernel selection in force (kernels::Use)
// must cover the whole call: ops pick their backward kernels when the
// backward runs.
inline void check_gradients_cuda(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                 std::vector<Tensor> inputs, GradientTolerance tol = {}) {
  const double eps = tol.eps;
  for (const Tensor& t : inputs) REQUIRE_MESSAGE(t.device().is_cpu(), "pass the CPU masters; f gets CUDA copies");
  // CUDA copies of every input; with `track`, the ones that require
  // gradients become leaves of a new graph.
  auto to_device = [&inputs](bool track) {
    std::vector<Tensor> copies;
    for (const Tensor& t : inputs) {
      Tensor c = t.to(kCUDA);
      if (track && t.requires_grad()) c.set_requires_grad(true);
      copies.push_back(c);
    }
    return copies;
  };

  Tensor out0;
  {
    NoGrad no_grad;
    out0 = f(to_device(false));
  }
  REQUIRE_MESSAGE(out0.device().is_cuda(), "f must compute on the GPU, its output is on " << out0.device().name());
  const std::vector<float> projection = random_vector(static_cast<size_t>(out0.numel()), 4242);
  auto loss_at_masters = [&]() {
    NoGrad no_grad;
    std::vector<float> y = f(to_device(false)).to_vector();
    double total = 0.0;
    for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(y[i]) * projection[i];
    return total;
  };

  std::vector<Tensor> leaves = to_device(true);
  Tensor out = f(leaves);
  out.backward(Tensor::from_vector(projection, out.shape(), kCUDA));

  std::vector<GradientPair> pairs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    const Tensor grad = leaves[k].grad();
    REQUIRE_MESSAGE(grad.defined(), "input " << k << " received no gradient");
    CHECK(grad.device().is_cuda());
    GradientPair pair{k, grad.to_vector(), {}};
    pair.numeric.resize(pair.analytic.size());
    float* data = inputs[k].data();
    for (size_t i = 0; i < pair.analytic.size(); ++i) {
      const float saved = data[i];
      data[i] = saved + static_cast<float>(eps);
      const double plus = loss_at_masters();
      data[i] = saved - static_cast<float>(eps);
      const double minus = loss_at_masters();
      data[i] = saved;
      pair.numeric[i] = static_cast<float>((plus - minus) / (2.0 * eps));
    }
    pairs.push_back(std::move(pair));
  }
  check_gradient_pairs(pairs, inputs, tol);
}

}  // namespace nib::testing
