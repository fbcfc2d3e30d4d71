// Dropout: identity in evaluation, the keep rate, reproducibility by seed,
// the 1/(1-p) scaling, the documented mask rule, and its gradient.
#include <algorithm>
#include <cmath>

#include "kernels/counter_rng.h"
#include "kernels/dropout.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;

TEST_CASE("dropout is the identity in evaluation and for p = 0") {
  Tensor x = random_tensor({4, 5}, 1);
  Generator gen(1);
  CHECK(ops::dropout(x, 0.5f, /*training=*/false, gen).to_vector() == x.to_vector());
  CHECK(ops::dropout(x, 0.0f, /*training=*/true, gen).to_vector() == x.to_vector());
}

TEST_CASE("dropout keeps about 1 - p of the elements and scales them by 1 / (1 - p)") {
  Tensor x = ops::affine(Tensor::ones({200000}), 2.0f, 0.0f);  // every element 2
  for (float p : {0.1f, 0.5f, 0.9f}) {
    CAPTURE(p);
    Generator gen(2);
    std::vector<float> y = ops::dropout(x, p, true, gen).to_vector();
    int64_t kept = 0, wrongly_scaled = 0;
    for (float v : y) {
      if (v == 0.0f) continue;
      ++kept;
      if (std::fabs(v - 2.0f / (1.0f - p)) > 1e-5f) ++wrongly_scaled;
    }
    CHECK(wrongly_scaled == 0);
    // The binomial standard deviation of the rate at n = 2e5 is at most 0.0011.
    double rate = static_cast<double>(kept) / static_cast<double>(y.size());
    CHECK(std::fabs(rate - (1.0 - p)) < 0.006);
  }
  Generator gen(3);
  std::vector<float> all_dropped = ops::dropout(x, 1.0f, true, gen).to_vector();
  CHECK(std::all_of(all_dropped.begin(), all_dropped.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("dropout: the same seed drops the same elements, a new call draws a new mask") {
  Tensor x = random_tensor({1000}, 4);
  Generator a(5), b(5);
  std::vector<float> first = ops::dropout(x, 0.3f, true, a).to_vector();
  CHECK(first == ops::dropout(x, 0.3f, true, b).to_vector());
  CHECK(first != ops::dropout(x, 0.3f, true, a).to_vector());
}

TEST_CASE("dropout keeps element i exactly when counter_uniform(seed, i) >= p") {
  // The rule every device's kernel follows, so that CPU and CUDA agree.
  const int64_t n = 4096;
  const float p = 0.4f;
  const uint64_t seed = 0x1234567887654321ull;
  std::vector<float> x(n, 1.0f), y(n);
  std::vector<uint8_t> mask(n);
  kernels::reference::dropout_forward(n, x.data(), p, seed, mask.data(), y.data());
  for (int64_t i = 0; i < n; ++i)
    CHECK(mask[i] == (kernels::counter_uniform(seed, static_cast<uint64_t>(i)) >= p ? 1 : 0));
}

TEST_CASE("dropout's gradient is the mask times 1 / (1 - p)") {
  // A generator made afresh in f gives every evaluation the same mask.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        Generator gen(6);
        return ops::dropout(in[0], 0.25f, true, gen);
      },
      {random_tensor({3, 7}, 7).set_requires_grad(true)});
  Tensor x = Tensor::ones({64}).set_requires_grad(true);
  Generator gen(8);
  Tensor y = ops::dropout(x, 0.5f, true, gen);
  ops::sum(y).backward();
  CHECK(x.grad().to_vector() == y.detach().to_vector());  // both are mask * 2
}

TEST_CASE("dropout rejects a probability outside [0, 1]") {
  Generator gen(9);
  CHECK_THROWS_WITH_AS(ops::dropout(Tensor::ones({2}), 1.5f, true, gen), doctest::Contains("outside [0, 1]"), Error);
}
