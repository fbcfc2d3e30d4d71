// Tensors and autograd in nib, in the worked example of docs/autograd.md:
// L = (a*b + a)^2 at a = 2, b = 3, forward and backward, checked against the
// derivatives worked out by hand. Then the same engine on whole tensors.
//
//   build/examples/tensors_and_autograd
#include <cstdio>

#include "nib/nib.h"

using namespace nib;

int main() {
  // [worked]
  Tensor a = Tensor::full({}, 2.0f).set_requires_grad(true);  // leaves: we want dL/da, dL/db
  Tensor b = Tensor::full({}, 3.0f).set_requires_grad(true);

  Tensor c = a * b;  // node 1: mul, saves a and b for its backward
  Tensor d = c + a;  // node 2: add, saves nothing
  Tensor L = d * d;  // node 3: mul, saves d (twice)

  L.backward();  // seeds dL/dL = 1 and walks nodes 3, 2, 1
  std::printf("L = %g, dL/da = %g, dL/db = %g\n", L.item(), a.grad().item(), b.grad().item());
  // [/worked]
  NIB_CHECK(L.item() == 64.0f && a.grad().item() == 64.0f && b.grad().item() == 32.0f,
            "autograd disagrees with the hand calculation in docs/autograd.md");

  // The same engine on tensors: gradients of a mean squared error.
  Generator gen(1);
  Tensor w = Tensor::randn({3, 2}, gen).set_requires_grad(true);
  Tensor x = Tensor::randn({4, 3}, gen);
  Tensor target = Tensor::zeros({4, 2});
  Tensor error = ops::matmul(x, w) - target;
  Tensor loss = ops::mean(error * error);
  loss.backward();
  std::printf("mse %.4f; d(mse)/dw has shape %s\n", loss.item(), w.grad().shape().str().c_str());
  return 0;
}
