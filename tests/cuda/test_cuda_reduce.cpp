// nib's reduction CUDA kernels (sum, expand) against the CPU reference.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and nib's CUDA kernels on device buffers holding the same data,
// then compares (helpers: tests/cuda/cuda_helpers.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/reduce.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;

// ---- Reductions ----------------------------------------------------------------

TEST_CASE("cuda kernel sum and expand match the reference along every kind of axis") {
  struct Layout {
    int64_t outer, reduce, inner;
  };
  for (Layout l : {Layout{1, 1, 1}, Layout{1, 1000003, 1}, Layout{7, 33, 1}, Layout{3, 1, 5}, Layout{2, 100, 4096},
                   Layout{100, 7, 100}, Layout{4, 0, 3}, Layout{1, 5000, 3}}) {
    CAPTURE(l.outer);
    CAPTURE(l.reduce);
    CAPTURE(l.inner);
    const size_t n = static_cast<size_t>(l.outer * l.reduce * l.inner), m = static_cast<size_t>(l.outer * l.inner);
    const float scale = l.reduce > 0 ? 1.0f / static_cast<float>(l.reduce) : 1.0f;
    std::vector<float> x = random_vector(n, 12), want(m);
    reference::sum(l.outer, l.reduce, l.inner, scale, x.data(), want.data());
    DeviceBuffer<float> dx(x), dy(m);
    kernels::cuda::sum(l.outer, l.reduce, l.inner, scale, dx.get(), dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), want, 1e-5);

    std::vector<float> gy = random_vector(m, 13), gx(n);
    reference::expand(l.outer, l.reduce, l.inner, scale, gy.data(), gx.data());
    DeviceBuffer<float> dgy(gy), dgx(n);
    kernels::cuda::expand(l.outer, l.reduce, l.inner, scale, dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}
