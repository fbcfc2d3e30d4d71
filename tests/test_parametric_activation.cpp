// leaky_relu and elu (Keras' LeakyReLU and ELU): values from their formulas,
// gradients by finite differences.
#include <cmath>

#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;

TEST_CASE("leaky_relu and elu follow their formulas on both sides of 0") {
  std::vector<float> x = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f};
  Tensor t = Tensor::from_vector(x, {5});
  std::vector<float> leaky = ops::leaky_relu(t, 0.2f).to_vector(), elu = ops::elu(t, 1.5f).to_vector();
  for (size_t i = 0; i < x.size(); ++i) {
    CAPTURE(x[i]);
    CHECK(leaky[i] == doctest::Approx(x[i] > 0 ? x[i] : 0.2f * x[i]));
    CHECK(elu[i] == doctest::Approx(x[i] > 0 ? x[i] : 1.5 * std::expm1(x[i])));
  }
}

TEST_CASE("leaky_relu and elu gradients match finite differences") {
  // Values away from 0, where the kink would spoil a finite difference.
  Tensor x = Tensor::from_vector({-2.0f, -0.7f, -0.2f, 0.3f, 0.9f, 1.7f}, {2, 3}).set_requires_grad(true);
  check_gradients([](const std::vector<Tensor>& in) { return ops::leaky_relu(in[0], 0.3f); }, {x});
  check_gradients([](const std::vector<Tensor>& in) { return ops::elu(in[0], 1.0f); }, {x});
}
