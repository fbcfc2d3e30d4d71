// nib's CUDA GELU (kernels/cuda/gelu.cu) against the CPU reference, on the
// sizes that reach every edge of the grid-stride launch, forward and backward.
#include <cmath>
#include <vector>

#include "kernels/gelu.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;

// [gelu-cuda-test]
TEST_CASE("cuda kernel gelu matches the reference, forward and backward") {
  const int64_t one_stride = int64_t{32} * 256 * cuda::multiprocessor_count();
  for (int64_t n : {int64_t{1}, int64_t{33}, one_stride * 3 / 2 + 1}) {
    CAPTURE(n);
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 5, 3.0f), gy = random_vector(un, 6), y(un), gx(un);
    kernels::reference::gelu_forward(n, x.data(), y.data());
    kernels::reference::gelu_backward(n, x.data(), gy.data(), gx.data());

    DeviceBuffer<float> dx(x), dgy(gy), dy(std::vector<float>(un, NAN)), dgx(std::vector<float>(un, NAN));
    kernels::cuda::gelu_forward(n, dx.get(), dy.get());
    kernels::cuda::gelu_backward(n, dx.get(), dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}
// [/gelu-cuda-test]
