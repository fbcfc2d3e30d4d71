// The autograd engine: graph recording, accumulation, NoGrad, frozen inputs.
#include "tensor/graph_dot.h"
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

// ---- Leaves own their gradients ----------------------------------------------
// The add op's backward hands the one incoming gradient to both of its
// inputs, and backward(seed) hands the seed itself to the first op. A leaf
// that kept that tensor instead of a copy would share storage with the other
// leaf (or with the caller's seed), and the next backward's in-place
// accumulation would change both.

TEST_CASE("autograd: two leaves fed the same gradient tensor accumulate separately over several passes") {
  Tensor a = Tensor::zeros({3}).set_requires_grad(true);
  Tensor b = Tensor::zeros({3}).set_requires_grad(true);
  for (int pass = 1; pass <= 3; ++pass) {
    ops::sum(a + b).backward();
    CHECK(a.grad().to_vector() == std::vector<float>(3, static_cast<float>(pass)));
    CHECK(b.grad().to_vector() == std::vector<float>(3, static_cast<float>(pass)));
  }
  CHECK(a.grad().data() != b.grad().data());
}

TEST_CASE("autograd: accumulating into a leaf never changes the caller's seed gradient") {
  Tensor x = Tensor::zeros({4}).set_requires_grad(true);
  Tensor seed = Tensor::full({4}, 0.5f);
  for (int pass = 1; pass <= 3; ++pass) {
    (x + Tensor::zeros({4})).backward(seed);
    CHECK(seed.to_vector() == std::vector<float>(4, 0.5f));
    CHECK(x.grad().to_vector() == std::vector<float>(4, 0.5f * pass));
  }
}

// ---- The gradient check itself ---------------------------------------------------

namespace {

// y = 0.02 x, with a backward that is `factor` times the true one.
Tensor scaled_with_backward(const Tensor& x, float factor) {
  Tensor y = x * 0.02f;
  autograd::record(y, "scaled", {x}, [factor](const Tensor& gy, const std::vector<bool>&) {
    return std::vector<Tensor>{gy * (0.02f * factor)};
  });
  return y;
}

}  // namespace

TEST_CASE("gradient check: a 10% error in gradients of size 0.02 is caught, element by element") {
  Tensor x = random_tensor({24}, 9).set_requires_grad(true);
  using nib::testing::gradient_mismatch;
  using nib::testing::gradient_pairs;
  const nib::testing::GradientTolerance tol;

  auto right = gradient_pairs([](const std::vector<Tensor>& in) { return scaled_with_backward(in[0], 1.0f); }, {x},
                              tol.eps);
  CHECK(gradient_mismatch(right[0].analytic, right[0].numeric, tol).worst <= 1.0);

  auto wrong = gradient_pairs([](const std::vector<Tensor>& in) { return scaled_with_backward(in[0], 1.1f); }, {x},
                              tol.eps);
  CHECK(gradient_mismatch(wrong[0].analytic, wrong[0].numeric, tol).worst > 1.0);
  // A tolerance relative to the largest gradient (at least 1) would have let it through.
  CHECK(nib::testing::relative_error(wrong[0].analytic, wrong[0].numeric) < 2e-2);
}

// ---- Graph dumps (tensor/graph_dot.h) ------------------------------------------

TEST_CASE("to_dot draws every op once with its output shape, and names the leaves it is told") {
  Tensor w = random_tensor({3, 2}, 1).set_requires_grad(true);
  Tensor x = random_tensor({4, 3}, 2);  // no gradient: not drawn
  Tensor h = ops::matmul(x, w);
  Tensor y = ops::sum(h * h);  // h feeds one op twice
  const std::string dot = autograd::to_dot(y, {{w.impl(), "layer.weight"}});
  CHECK(dot.rfind("digraph autograd {", 0) == 0);
  CHECK(dot.find("label=\"matmul\\n[4, 2]\"") != std::string::npos);
  CHECK(dot.find("layer.weight\\n[3, 2]") != std::string::npos);
  // matmul, mul and sum: three boxes; one leaf ellipse; two arrows from matmul into mul.
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = dot.find(what); at != std::string::npos; at = dot.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("shape=box") == 3);
  CHECK(count("shape=ellipse") == 1);
  CHECK(count("n2 -> n1") == 2);
  CHECK(autograd::to_dot(x) == "digraph autograd {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n}\n");
}
