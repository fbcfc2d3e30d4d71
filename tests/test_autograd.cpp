// The autograd engine: graph recording, accumulation, NoGrad, frozen inputs.
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;

TEST_CASE("a gradient reaching a tensor along two paths is summed") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).set_requires_grad(true);
  Tensor y = ops::sum(x * x + x);  // dy/dx = 2x + 1
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<float>{3, 5, 7});
}

TEST_CASE("backward twice accumulates into .grad") {
  Tensor x = Tensor::from_vector({1, 2}, {2}).set_requires_grad(true);
  ops::sum(x * 3.0f).backward();
  ops::sum(x * 3.0f).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{6, 6});
}

TEST_CASE("NoGrad records nothing") {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  NoGrad guard;
  Tensor y = x * 2.0f;
  CHECK_FALSE(y.requires_grad());
  CHECK(y.grad_fn() == nullptr);
}

TEST_CASE("inputs that do not require gradients get none and build no graph") {
  Tensor w = Tensor::ones({2, 3});  // frozen
  Tensor x = Tensor::ones({4, 3});
  Tensor y = ops::linear(x, w, Tensor());
  CHECK_FALSE(y.requires_grad());

  Tensor x2 = Tensor::ones({4, 3}).set_requires_grad(true);
  ops::sum(ops::linear(x2, w, Tensor())).backward();
  CHECK(x2.grad().defined());
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("backward a second time through a freed graph is a clear error") {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  Tensor y = ops::sum(x * x);
  y.backward();
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("second time"), nib::Error);
}

TEST_CASE("retain_graph allows a second backward") {
  Tensor x = Tensor::from_vector({2}, {1}).set_requires_grad(true);
  Tensor y = ops::sum(x * x);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(8.0));
}

TEST_CASE("detach cuts the graph but shares data") {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  Tensor y = (x * 2.0f).detach();
  CHECK_FALSE(y.requires_grad());
  CHECK(y.to_vector() == std::vector<float>{2, 2});
}

TEST_CASE("reshape is a view and passes gradients back in the original shape") {
  Tensor x = random_tensor({2, 3, 4}, 1).set_requires_grad(true);
  Tensor y = x.reshape({6, -1});
  CHECK(y.shape() == Shape{6, 4});
  CHECK(y.data() == x.data());
  check_gradients([](const std::vector<Tensor>& in) { return in[0].reshape({4, 6}) * 2.0f; }, {x});
}

TEST_CASE("a deep chain does not overflow the stack") {
  Tensor x = Tensor::ones({1}).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0f;
  ops::sum(y).backward();
  CHECK(x.grad().item() == doctest::Approx(1.0));
}

TEST_CASE("elementwise ops broadcast and their gradients reduce back") {
  Tensor a = random_tensor({2, 3, 4}, 2).set_requires_grad(true);
  Tensor b = random_tensor({3, 1}, 3).set_requires_grad(true);
  Tensor c = (random_tensor({4}, 4) * 0.1f + Tensor::full({4}, 2.0f)).set_requires_grad(true);
  check_gradients([](const std::vector<Tensor>& in) { return in[0] * in[1] + in[0] / in[2] - in[1]; }, {a, b, c});
}
