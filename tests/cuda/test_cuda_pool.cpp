// nib's pooling CUDA kernels (max, average, global average) against the CPU
// reference (the argmax ties and NaNs: also test_cuda_pool_argmax.cpp).
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

#include "kernels/pool.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::pool_shapes;
using nib::testing::random_vector;

// ---- Pooling -------------------------------------------------------------------

TEST_CASE("cuda kernel max pooling matches the reference, winners included") {
  for (const Pool2dShape& s : pool_shapes()) {
    CAPTURE(s.H);
    CAPTURE(s.W);
    CAPTURE(s.kernel_h);
    CAPTURE(s.stride_h);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = random_vector(nx, 14), y(ny), gy = random_vector(ny, 15), gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    DeviceBuffer<int32_t> dargmax(ny);
    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
    CHECK(dy.to_host() == y);  // a max is exact
    CHECK(dargmax.to_host() == argmax);
    kernels::cuda::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);

    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), nullptr);  // evaluation: no winners kept
    CHECK(dy.to_host() == y);
  }
}

TEST_CASE("cuda kernel max pooling lets a NaN win as the reference does: the last NaN of the window") {
  for (const Pool2dShape& s : pool_shapes()) {
    const std::string shape = nib::testing::pool_shape_text(s);
    CAPTURE(shape);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = nib::testing::with_nan_pairs(random_vector(nx, 14)), y(ny), gy = random_vector(ny, 15),
                       gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -2));
    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
    CHECK(nib::testing::same_or_both_nan(dy.to_host(), y));
    CHECK(dargmax.to_host() == argmax);  // the gradient goes to the NaN the reference picked
    kernels::cuda::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

TEST_CASE("cuda kernel average pooling matches the reference with and without counting the padding") {
  for (const Pool2dShape& s : pool_shapes()) {
    for (bool include_pad : {true, false}) {
      CAPTURE(s.H);
      CAPTURE(s.W);
      CAPTURE(s.kernel_h);
      CAPTURE(include_pad);
      const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W),
                   ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
      std::vector<float> x = random_vector(nx, 16), y(ny), gy = random_vector(ny, 17), gx(nx);
      reference::avg_pool_forward(s, x.data(), y.data(), include_pad);
      reference::avg_pool_backward(s, gy.data(), gx.data(), include_pad);
      DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
      kernels::cuda::avg_pool_forward(s, dx.get(), dy.get(), include_pad);
      kernels::cuda::avg_pool_backward(s, dgy.get(), dgx.get(), include_pad);
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
}

TEST_CASE("cuda kernel global average pooling matches the reference") {
  for (auto [planes, HW] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 49}, {33, 1}, {2048, 49}, {3, 100003}}) {
    CAPTURE(planes);
    CAPTURE(HW);
    const size_t nx = static_cast<size_t>(planes * HW), ny = static_cast<size_t>(planes);
    std::vector<float> x = random_vector(nx, 18), y(ny), gy = random_vector(ny, 19), gx(nx);
    reference::global_avg_pool_forward(planes, HW, x.data(), y.data());
    reference::global_avg_pool_backward(planes, HW, gy.data(), gx.data());
    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    kernels::cuda::global_avg_pool_forward(planes, HW, dx.get(), dy.get());
    kernels::cuda::global_avg_pool_backward(planes, HW, dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}
