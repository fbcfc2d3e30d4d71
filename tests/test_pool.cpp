// Pooling: fast vs reference on awkward shapes, hand-computed values,
// finite-difference gradients through the ops, and argument errors.
#include <algorithm>
#include <numeric>

#include "tests/helpers.h"
#include "tests/impl_comparison.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::distinct_tensor;
using nib::testing::random_tensor;

namespace {

using nib::testing::check_pool_matches_reference;
using nib::testing::PoolCase;

ops::Pool2dOptions pool(int64_t kh, int64_t kw, int64_t sh, int64_t sw, ops::Padding2d padding = {}) {
  return testing::pool_options(kh, kw, sh, sw, padding);
}

std::vector<PoolCase> awkward_cases() {
  return {
      {"1x1 image, 1x1 kernel", {1, 1, 1, 1}, pool(1, 1, 1, 1)},
      {"non-square image, 3x3 stride 2 pad 1", {2, 3, 5, 7}, pool(3, 3, 2, 2, ops::Padding2d::same(1))},
      {"stride larger than the kernel", {2, 2, 9, 8}, pool(2, 2, 3, 3)},
      {"padding of half the kernel", {1, 2, 6, 6}, pool(4, 4, 2, 2, ops::Padding2d::same(2))},
      {"padding beyond half the kernel", {1, 2, 5, 5}, pool(3, 3, 1, 1, ops::Padding2d::same(2))},
      {"asymmetric (TF 'SAME') padding", {3, 2, 6, 5}, pool(3, 2, 2, 2, {0, 1, 1, 0})},
      {"non-square kernel and stride", {2, 1, 7, 9}, pool(2, 3, 1, 2, {1, 1, 0, 2})},
      {"batch 1, many channels", {1, 17, 4, 4}, pool(2, 2, 2, 2)},
  };
}

}  // namespace

TEST_CASE("max_pool2d: fast matches reference on awkward shapes") {
  for (const PoolCase& c : awkward_cases()) {
    CAPTURE(c.what);
    check_pool_matches_reference("fast", random_tensor(c.x, 1),
                                 [&](const Tensor& x) { return ops::max_pool2d(x, c.options); });
  }
}

TEST_CASE("avg_pool2d: fast matches reference on awkward shapes, with and without padding in the divisor") {
  for (bool include_pad : {false, true}) {
    for (const PoolCase& c : awkward_cases()) {
      CAPTURE(c.what);
      CAPTURE(include_pad);
      check_pool_matches_reference("fast", random_tensor(c.x, 2),
                                   [&](const Tensor& x) { return ops::avg_pool2d(x, c.options, include_pad); });
    }
  }
}

TEST_CASE("global_avg_pool: fast matches reference") {
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{2, 3, 5, 7}, Shape{4, 64, 14, 14}}) {
    CAPTURE(s.str());
    check_pool_matches_reference("fast", random_tensor(s, 3), [](const Tensor& x) { return ops::global_avg_pool(x); });
  }
}

TEST_CASE("pooling by hand on a 4x4 ramp") {
  std::vector<float> ramp(16);
  std::iota(ramp.begin(), ramp.end(), 0.0f);  // x[h][w] = 4h + w
  Tensor x = Tensor::from_vector(ramp, {1, 1, 4, 4});
  for (const char* impl : {"reference", "fast"}) {
    CAPTURE(impl);
    kernels::Use use("pool", impl);
    CHECK(ops::max_pool2d(x, pool(2, 2, 2, 2)).to_vector() == std::vector<float>{5, 7, 13, 15});
    CHECK(ops::avg_pool2d(x, pool(2, 2, 2, 2)).to_vector() == std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
    // 3x3 stride 2 pad 1: the top-left window holds 0, 1, 4, 5 and five zeros of padding.
    auto padded = pool(3, 3, 2, 2, ops::Padding2d::same(1));
    CHECK(ops::avg_pool2d(x, padded, false).to_vector()[0] == doctest::Approx(10.0 / 4));
    CHECK(ops::avg_pool2d(x, padded, true).to_vector()[0] == doctest::Approx(10.0 / 9));
    // A window in the padding never wins: the max stays the largest real value.
    CHECK(ops::max_pool2d(ops::affine(x, 1.0f, -100.0f), padded).to_vector()[0] == doctest::Approx(5.0 - 100.0));
    CHECK(ops::global_avg_pool(x).item() == doctest::Approx(7.5));
  }
}

TEST_CASE("max_pool2d sends each gradient to its window's winner, summing where windows overlap") {
  // 1x1x1x3 with a 1x2 window, stride 1: both windows pick the middle value.
  Tensor x = Tensor::from_vector({0, 5, 1}, {1, 1, 1, 3}).set_requires_grad(true);
  Tensor y = ops::max_pool2d(x, pool(1, 2, 1, 1));
  y.backward(Tensor::from_vector({2, 3}, y.shape()));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 5, 0});
}

TEST_CASE("pooling gradients match finite differences") {
  for (const PoolCase& c : awkward_cases()) {
    CAPTURE(c.what);
    check_gradients([&](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], c.options); },
                    {distinct_tensor(c.x, 4).set_requires_grad(true)});
    for (bool include_pad : {false, true})
      check_gradients([&](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], c.options, include_pad); },
                      {random_tensor(c.x, 5).set_requires_grad(true)});
  }
  check_gradients([](const std::vector<Tensor>& in) { return ops::global_avg_pool(in[0]); },
                  {random_tensor({2, 3, 3, 5}, 6).set_requires_grad(true)});
}

TEST_CASE("pooling rejects bad arguments with clear messages") {
  Tensor x = Tensor::zeros({1, 1, 4, 4});
  CHECK_THROWS_WITH_AS(ops::max_pool2d(Tensor::zeros({4, 4}), pool(2, 2, 2, 2)), doctest::Contains("[N, C, H, W]"),
                       Error);
  CHECK_THROWS_WITH_AS(ops::max_pool2d(x, pool(2, 2, 0, 2)), doctest::Contains("positive"), Error);
  CHECK_THROWS_WITH_AS(ops::avg_pool2d(x, pool(2, 2, 2, 2, ops::Padding2d::same(2))),
                       doctest::Contains("smaller than the kernel"), Error);
  CHECK_THROWS_WITH_AS(ops::max_pool2d(x, pool(6, 6, 1, 1, ops::Padding2d::same(0))),
                       doctest::Contains("larger than the padded input"), Error);
}
