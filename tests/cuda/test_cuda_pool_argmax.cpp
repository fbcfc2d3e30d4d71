// The two kernels cuDNN max pooling relies on (kernels/cuda/pool_argmax.cu):
// finding each window's winner from the maxima cuDNN computed, and scattering
// gradients to the winners. They are nib's own kernels, so they are checked
// here directly against the reference, cuDNN or not (and on the CPU harness,
// which has no cuDNN).
#include <cmath>
#include <vector>

#include "kernels/cuda/pool_argmax.h"
#include "kernels/pool.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::pool_shapes;
using nib::testing::random_vector;
using nib::testing::with_nan_pairs;

TEST_CASE("pool argmax and scatter (cuDNN max pooling's helpers) match the reference") {
  for (const Pool2dShape& s : pool_shapes()) {
    CAPTURE(s.H);
    CAPTURE(s.W);
    CAPTURE(s.kernel_h);
    CAPTURE(s.stride_h);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = random_vector(nx, 41), y(ny), gy = random_vector(ny, 42), gx(nx);
    // Ties: a window whose maximum appears twice must pick the first, as the reference does.
    if (nx > 1) x[1] = x[0];
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(y), dgy(gy), dgx(std::vector<float>(nx, NAN));
    DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -1));
    cuda_pool::max_pool_argmax(s, dx.get(), dy.get(), dargmax.get());
    CHECK(dargmax.to_host() == argmax);
    cuda_pool::max_pool_scatter(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

TEST_CASE("pool argmax picks the NaN the reference picks (the last of the window) when the maximum is NaN") {
  for (const Pool2dShape& s : pool_shapes()) {
    const std::string shape = nib::testing::pool_shape_text(s);
    CAPTURE(shape);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = with_nan_pairs(random_vector(nx, 43)), y(ny), gy = random_vector(ny, 44), gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());  // y as cuDNN gives it: NaN propagated
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(y), dgy(gy), dgx(std::vector<float>(nx, NAN));
    DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -1));
    cuda_pool::max_pool_argmax(s, dx.get(), dy.get(), dargmax.get());
    CHECK(dargmax.to_host() == argmax);
    cuda_pool::max_pool_scatter(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}
