// Batch normalisation: fast vs reference, the running-statistics update
// against its formula, evaluation mode by hand, gradients in both modes.
#include <cmath>

#include "tests/helpers.h"
#include "tests/impl_comparison.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;

namespace {

constexpr float kMomentum = testing::kBatchNormMomentum, kEps = testing::kBatchNormEps;

const std::vector<Shape> kShapes = {
    {1, 1, 1, 2}, {1, 3, 5, 7}, {4, 3, 1, 1}, {2, 5, 4, 3}, {8, 16, 9, 9}, {5, 4}, {2, 1}, {64, 33},
};

// Per-channel mean and biased variance of [N, C, HW] data, in double.
void channel_stats(const Tensor& x, int64_t c, double& mean, double& var) {
  std::vector<float> v = x.to_vector();
  const int64_t N = x.size(0), C = x.size(1), HW = x.numel() / (N * C);
  double total = 0.0, squares = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i) total += v[(n * C + c) * HW + i];
  mean = total / static_cast<double>(N * HW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i) squares += std::pow(v[(n * C + c) * HW + i] - mean, 2);
  var = squares / static_cast<double>(N * HW);
}

}  // namespace

TEST_CASE("batch_norm: fast matches reference, training and evaluation, forward and backward") {
  testing::check_batch_norm_matches_reference("fast", kShapes);
}

TEST_CASE("batch_norm training normalises each channel and updates the running statistics by the formula") {
  for (const char* impl : {"reference", "fast"}) {
    for (Shape s : {Shape{3, 4, 5, 2}, Shape{6, 3}}) {
      CAPTURE(impl);
      CAPTURE(s.str());
      kernels::Use use("batchnorm", impl);
      const int64_t C = s[1], count = s.numel() / C;
      Tensor x = ops::affine(random_tensor(s, 2, 3.0f), 1.0f, -2.0f);
      Tensor running_mean = Tensor::full({C}, 0.5f), running_var = Tensor::full({C}, 2.0f);
      Tensor y = ops::batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, kMomentum, kEps);
      for (int64_t c = 0; c < C; ++c) {
        double mean, var;
        channel_stats(x, c, mean, var);
        double unbiased = var * count / (count - 1);  // the running variance is unbiased
        CHECK(running_mean.to_vector()[c] == doctest::Approx((1 - kMomentum) * 0.5 + kMomentum * mean));
        CHECK(running_var.to_vector()[c] == doctest::Approx((1 - kMomentum) * 2.0 + kMomentum * unbiased));
        double y_mean, y_var;  // without gamma/beta the output is standardised
        channel_stats(y, c, y_mean, y_var);
        CHECK(y_mean == doctest::Approx(0.0).epsilon(1e-4).scale(1.0));
        CHECK(y_var == doctest::Approx(var / (var + kEps)).epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("batch_norm evaluation uses the running statistics and leaves them alone") {
  Tensor x = random_tensor({2, 3, 2, 2}, 3);
  Tensor gamma = Tensor::from_vector({1, 2, -1}, {3}), beta = Tensor::from_vector({0, 1, 2}, {3});
  Tensor rm = Tensor::from_vector({0.5f, -1, 0}, {3}), rv = Tensor::from_vector({1, 4, 0.25f}, {3});
  for (const char* impl : {"reference", "fast"}) {
    CAPTURE(impl);
    kernels::Use use("batchnorm", impl);
    std::vector<float> y = ops::batch_norm(x, gamma, beta, rm, rv, false, kMomentum, kEps).to_vector();
    std::vector<float> xv = x.to_vector(), g = gamma.to_vector(), b = beta.to_vector(), m = rm.to_vector(),
                       v = rv.to_vector();
    for (size_t i = 0; i < xv.size(); ++i) {
      size_t c = (i / 4) % 3;
      CHECK(y[i] == doctest::Approx((xv[i] - m[c]) / std::sqrt(v[c] + kEps) * g[c] + b[c]));
    }
    CHECK(rm.to_vector() == std::vector<float>{0.5f, -1, 0});
    CHECK(rv.to_vector() == std::vector<float>{1, 4, 0.25f});
  }
}

TEST_CASE("batch_norm gradients match finite differences in both modes") {
  for (const char* impl : {"reference", "fast"}) {
    for (bool training : {true, false}) {
      for (Shape s : {Shape{2, 3, 3, 2}, Shape{5, 4}, Shape{1, 2, 1, 3}}) {
        CAPTURE(impl);
        CAPTURE(training);
        CAPTURE(s.str());
        kernels::Use use("batchnorm", impl);
        const int64_t C = s[1];
        Tensor rm = random_tensor({C}, 20, 0.1f), rv = ops::affine(random_tensor({C}, 21, 0.1f), 1.0f, 1.0f);
        auto f = [&](const std::vector<Tensor>& in) {
          return ops::batch_norm(in[0], in[1], in[2], rm, rv, training, kMomentum, kEps);
        };
        check_gradients(f, {random_tensor(s, 22).set_requires_grad(true),
                            ops::affine(random_tensor({C}, 23, 0.3f), 1.0f, 1.0f).set_requires_grad(true),
                            random_tensor({C}, 24).set_requires_grad(true)},
                        {1e-2, 3e-2});
      }
    }
  }
}

TEST_CASE("batch_norm rejects bad arguments with clear messages") {
  Tensor x = random_tensor({2, 3, 2, 2}, 5);
  Tensor three = Tensor::ones({3}), four = Tensor::ones({4});
  CHECK_THROWS_WITH_AS(ops::batch_norm(x, four, three, three, three, true, kMomentum, kEps),
                       doctest::Contains("weight has 4 values for 3 channels"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(random_tensor({2, 3, 4}, 6), three, three, three, three, true, 0.1f, kEps),
                       doctest::Contains("[N, C]"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(random_tensor({1, 3}, 7), three, three, three, three, true, 0.1f, kEps),
                       doctest::Contains("more than one value per channel"), Error);
  CHECK_THROWS_WITH_AS(ops::batch_norm(x, three, three, Tensor(), Tensor(), false, 0.1f, kEps),
                       doctest::Contains("running_mean is undefined"), Error);
}
