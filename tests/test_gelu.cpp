// GELU (kernels/gelu.h, ops/gelu.cpp): the fast CPU version against the
// reference on odd sizes, the reference against PyTorch, the backward
// against finite differences, and the layer.
#include <doctest/doctest.h>

#include "kernels/gelu.h"
#include "kernels/registry.h"
#include "layers/layers.h"
#include "ops/ops.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_vector;

// [gelu-test]
TEST_CASE("gelu: the fast CPU version matches the reference on odd sizes, forward and backward") {
  for (int64_t n : {1, 7, 33, 1000, 100003}) {  // 100003 > the threshold for threads
    CAPTURE(n);
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 1, 3.0f), gy = random_vector(un, 2);
    std::vector<float> y_ref(un), y_fast(un, NAN), gx_ref(un), gx_fast(un, NAN);
    kernels::reference::gelu_forward(n, x.data(), y_ref.data());
    kernels::fast::gelu_forward(n, x.data(), y_fast.data());
    NIB_CHECK_CLOSE(y_fast, y_ref, 1e-6);
    kernels::reference::gelu_backward(n, x.data(), gy.data(), gx_ref.data());
    kernels::fast::gelu_backward(n, x.data(), gy.data(), gx_fast.data());
    NIB_CHECK_CLOSE(gx_fast, gx_ref, 1e-6);
  }
}

TEST_CASE("gelu: finite differences agree with the backward, for every CPU implementation") {
  for (const char* impl : {"reference", "fast"}) {
    CAPTURE(impl);
    kernels::Use use("gelu", impl);
    check_gradients([](const std::vector<Tensor>& in) { return ops::gelu(in[0]); },
                    {nib::testing::random_tensor({3, 5, 7}, 3, 2.0f).set_requires_grad(true)});
  }
}
// [/gelu-test]

TEST_CASE("gelu: known values, in place, and the layer") {
  // gelu(0) = 0, gelu(x) -> x for large x, -> 0 for very negative x; gelu(1) = Phi(1) = 0.8413447.
  Tensor x = Tensor::from_vector({0.0f, 1.0f, -1.0f, 10.0f, -10.0f}, {5});
  std::vector<float> y = ops::gelu(x).to_vector();
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == doctest::Approx(0.8413447).epsilon(1e-6));
  CHECK(y[2] == doctest::Approx(-0.1586553).epsilon(1e-6));
  CHECK(y[3] == doctest::Approx(10.0).epsilon(1e-6));
  CHECK(std::fabs(y[4]) < 1e-20);
  std::vector<float> in_place = x.to_vector();
  kernels::fast::gelu_forward(5, in_place.data(), in_place.data());
  CHECK(in_place == y);
  GELU layer;
  CHECK(layer(x).to_vector() == y);
  CHECK(layer.describe() == "GELU()");
  CHECK(layer.parameter_count() == 0);
}
