// Activations on the CPU: gradients against finite differences, and PyTorch's
// choice at the kinks, where no finite difference can tell.
#include "ops/ops.h"
#include "tests/helpers.h"

using namespace nib;
using kernels::Activation;
using nib::testing::check_gradients;

namespace {

// -2.95, -2.65, ..., 8.75: every value at least 0.05 away from the kinks at 0
// and 6, five times the finite-difference step.
Tensor ramp() {
  std::vector<float> v(40);
  for (size_t i = 0; i < v.size(); ++i) v[i] = -2.95f + 0.3f * static_cast<float>(i);
  return Tensor::from_vector(v, {5, 8});
}

}  // namespace

TEST_CASE("activations: gradients match finite differences (ReLU, ReLU6, sigmoid, tanh)") {
  for (Activation act : {Activation::ReLU, Activation::ReLU6, Activation::Sigmoid, Activation::Tanh}) {
    CAPTURE(static_cast<int>(act));
    check_gradients([act](const std::vector<Tensor>& in) { return ops::activation(in[0], act); },
                    {ramp().set_requires_grad(true)});
  }
}

TEST_CASE("activations: at the kinks the gradient is PyTorch's (ReLU: none at 0; ReLU6: none at 0 or 6)") {
  // torch.relu's backward passes the gradient where x > 0; relu6 (hardtanh)
  // where 0 < x < 6.
  Tensor x = Tensor::from_vector({-1.0f, 0.0f, 0.5f, 6.0f, 7.0f}, {5}).set_requires_grad(true);
  ops::sum(ops::relu(x)).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 1, 1, 1});

  Tensor x6 = Tensor::from_vector({-1.0f, 0.0f, 0.5f, 6.0f, 7.0f}, {5}).set_requires_grad(true);
  ops::sum(ops::relu6(x6)).backward();
  CHECK(x6.grad().to_vector() == std::vector<float>{0, 0, 1, 0, 0});
}
