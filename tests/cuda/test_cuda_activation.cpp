// nib's activation CUDA kernels (ReLU family, bias_activation, bias_backward,
// leaky ReLU and ELU) against the CPU reference.
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

#include "kernels/activation.h"
#include "kernels/parametric_activation.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;
using nib::testing::edge_sizes;

// ---- Activations ---------------------------------------------------------------

TEST_CASE("cuda kernel activations, their backward, bias_activation and bias_backward match the reference") {
  const Activation all[] = {Activation::Identity, Activation::ReLU, Activation::ReLU6, Activation::Sigmoid,
                            Activation::Tanh};
  for (int64_t n : edge_sizes()) {
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 8, 4.0f), gy = random_vector(un, 9);
    DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
    for (Activation act : all) {
      CAPTURE(n);
      CAPTURE(static_cast<int>(act));
      std::vector<float> y(un), gx(un);
      reference::activation_forward(act, n, x.data(), y.data());
      kernels::cuda::activation_forward(act, n, dx.get(), dy.get());
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);

      reference::activation_backward(act, n, y.data(), gy.data(), gx.data());
      kernels::cuda::activation_backward(act, n, dy.get(), dgy.get(), dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }

  struct Layout {
    int64_t outer, channels, inner;
  };
  // inner == 1 (a linear layer's bias) has its own bias_backward kernel:
  // fewer columns than a block takes, a partial last block of columns, many blocks.
  for (Layout l : {Layout{1, 1, 1}, Layout{2, 3, 5}, Layout{1, 7, 1}, Layout{33, 64, 49}, Layout{128, 10, 1},
                   Layout{1000, 70, 1}, Layout{3, 4100, 1}, Layout{2, 3, 100000}}) {
    CAPTURE(l.outer);
    CAPTURE(l.channels);
    CAPTURE(l.inner);
    const size_t n = static_cast<size_t>(l.outer * l.channels * l.inner);
    std::vector<float> y0 = random_vector(n, 10, 3.0f), bias = random_vector(static_cast<size_t>(l.channels), 11);
    DeviceBuffer<float> dbias(bias);
    for (Activation act : all) {
      for (bool with_bias : {true, false}) {
        std::vector<float> want = y0;
        reference::bias_activation(act, l.outer, l.channels, l.inner, with_bias ? bias.data() : nullptr, want.data());
        DeviceBuffer<float> dy(y0);
        kernels::cuda::bias_activation(act, l.outer, l.channels, l.inner, with_bias ? dbias.get() : nullptr, dy.get());
        NIB_CHECK_CLOSE(dy.to_host(), want, 1e-6);
      }
    }
    std::vector<float> want(static_cast<size_t>(l.channels));
    reference::bias_backward(l.outer, l.channels, l.inner, y0.data(), want.data());
    DeviceBuffer<float> dg(y0), dgb(static_cast<size_t>(l.channels));
    kernels::cuda::bias_backward(l.outer, l.channels, l.inner, dg.get(), dgb.get());
    NIB_CHECK_CLOSE(dgb.to_host(), want, 1e-5);
  }
}

TEST_CASE("cuda kernel leaky_relu and elu, forward and backward, match the reference") {
  for (int64_t n : edge_sizes()) {
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 12, 3.0f), gy = random_vector(un, 13);
    DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
    for (ParametricActivation act : {ParametricActivation::LeakyReLU, ParametricActivation::ELU}) {
      CAPTURE(n);
      CAPTURE(static_cast<int>(act));
      std::vector<float> y(un), gx(un);
      reference::parametric_activation_forward(act, 0.3f, n, x.data(), y.data());
      kernels::cuda::parametric_activation_forward(act, 0.3f, n, dx.get(), dy.get());
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      reference::parametric_activation_backward(act, 0.3f, n, x.data(), gy.data(), gx.data());
      kernels::cuda::parametric_activation_backward(act, 0.3f, n, dx.get(), dgy.get(), dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
}
