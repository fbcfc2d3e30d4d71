// softmax, log_softmax and cross_entropy: fast vs reference, stability with
// huge logits, the loss by hand (with label smoothing), gradients, errors.
#include <cmath>

#include "kernels/registry.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;

namespace {

Tensor labels_of(const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, kCPU, DType::I32);
  std::copy(values.begin(), values.end(), t.data_as<int32_t>());
  return t;
}

Tensor random_labels(int64_t n, int32_t classes, uint64_t seed) {
  Generator gen(seed);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& l : v) l = static_cast<int32_t>(gen.below(static_cast<uint32_t>(classes)));
  return labels_of(v);
}

// Mean cross-entropy in double, straight from the definition in kernels/softmax.h.
double cross_entropy_by_hand(const Tensor& logits, const Tensor& labels, double smoothing) {
  const int64_t N = logits.size(0), K = logits.size(1);
  std::vector<float> x = logits.to_vector();
  const int32_t* l = labels.data_as<int32_t>();
  double total = 0.0;
  for (int64_t r = 0; r < N; ++r) {
    double max = -INFINITY, sum = 0.0;
    for (int64_t c = 0; c < K; ++c) max = std::max(max, static_cast<double>(x[r * K + c]));
    for (int64_t c = 0; c < K; ++c) sum += std::exp(x[r * K + c] - max);
    for (int64_t c = 0; c < K; ++c) {
      double target = (c == l[r] ? 1.0 - smoothing : 0.0) + smoothing / K;
      total -= target * (x[r * K + c] - max - std::log(sum));
    }
  }
  return total / N;
}

// Forward value and input gradient of `op` with the softmax family forced to `impl`.
template <class Op>
std::pair<Tensor, Tensor> run_with(const char* impl, const Tensor& x_in, const Op& op) {
  kernels::Use use("softmax", impl);
  Tensor x = x_in.clone().set_requires_grad(true);
  Tensor y = op(x);
  y.backward(random_tensor(y.shape(), 31));
  CHECK(kernels::last_chosen("softmax", DeviceType::CPU) == impl);
  return {y.detach(), x.grad()};
}

const std::vector<Shape> kShapes = {{1, 1}, {3, 7}, {2, 3, 5}, {64, 1000}, {5, 2}};

}  // namespace

TEST_CASE("softmax, log_softmax and cross_entropy: fast matches reference") {
  for (const Shape& s : kShapes) {
    for (float scale : {1.0f, 30.0f}) {
      CAPTURE(s.str());
      CAPTURE(scale);
      Tensor x = random_tensor(s, 1, scale);
      for (bool log : {false, true}) {
        auto op = [log](const Tensor& t) { return log ? ops::log_softmax(t) : ops::softmax(t); };
        auto [y_ref, gx_ref] = run_with("reference", x, op);
        auto [y_fast, gx_fast] = run_with("fast", x, op);
        NIB_CHECK_CLOSE(y_fast, y_ref, 1e-5);
        NIB_CHECK_CLOSE(gx_fast, gx_ref, 1e-5);
      }
      if (s.rank() != 2) continue;
      Tensor labels = random_labels(s[0], static_cast<int32_t>(s[1]), 2);
      for (float smoothing : {0.0f, 0.1f}) {
        auto op = [&](const Tensor& t) { return ops::cross_entropy(t, labels, smoothing); };
        auto [loss_ref, gx_ref] = run_with("reference", x, op);
        auto [loss_fast, gx_fast] = run_with("fast", x, op);
        NIB_CHECK_CLOSE(loss_fast, loss_ref, 1e-5);
        NIB_CHECK_CLOSE(gx_fast, gx_ref, 1e-6);
      }
    }
  }
}

TEST_CASE("softmax rows sum to one and huge logits stay finite") {
  for (const char* impl : {"reference", "fast"}) {
    CAPTURE(impl);
    kernels::Use use("softmax", impl);
    Tensor x = Tensor::from_vector({1000, 0, -1000, 5e4f, 5e4f, 5e4f}, {2, 3});
    std::vector<float> p = ops::softmax(x).to_vector();
    CHECK(p[0] == doctest::Approx(1.0));
    CHECK(p[1] == 0.0f);
    CHECK(p[3] == doctest::Approx(1.0 / 3));
    std::vector<float> lp = ops::log_softmax(x).to_vector();
    CHECK(lp[2] == doctest::Approx(-2000.0));  // log(0) would be -inf: computed, not taken
    CHECK(lp[5] == doctest::Approx(-std::log(3.0)));
    // A row at 1e4 scale sums to one like any other.
    Tensor big = random_tensor({4, 9}, 3, 1e4f);
    std::vector<float> q = ops::softmax(big).to_vector();
    for (int r = 0; r < 4; ++r) {
      double row = 0.0;
      for (int c = 0; c < 9; ++c) row += q[r * 9 + c];
      CHECK(row == doctest::Approx(1.0));
    }
    CHECK(std::isfinite(ops::cross_entropy(big, labels_of({0, 1, 2, 3}), 0.1f).item()));
  }
}

TEST_CASE("cross_entropy matches the definition, with and without label smoothing") {
  for (const char* impl : {"reference", "fast"}) {
    for (float smoothing : {0.0f, 0.1f, 0.5f, 1.0f}) {
      CAPTURE(impl);
      CAPTURE(smoothing);
      kernels::Use use("softmax", impl);
      Tensor logits = random_tensor({6, 5}, 4, 3.0f);
      Tensor labels = labels_of({0, 4, 2, 2, 1, 3});
      float loss = ops::cross_entropy(logits, labels, smoothing).item();
      CHECK(loss == doctest::Approx(cross_entropy_by_hand(logits, labels, smoothing)).epsilon(1e-5));
    }
  }
  // Two classes, logits (0, 0): every class has probability 1/2, loss log 2 whatever the smoothing.
  CHECK(ops::cross_entropy(Tensor::zeros({1, 2}), labels_of({1}), 0.3f).item() == doctest::Approx(std::log(2.0)));
}

TEST_CASE("softmax, log_softmax and cross_entropy gradients match finite differences") {
  for (const char* impl : {"reference", "fast"}) {
    CAPTURE(impl);
    kernels::Use use("softmax", impl);
    check_gradients([](const std::vector<Tensor>& in) { return ops::softmax(in[0]); },
                    {random_tensor({3, 5}, 5).set_requires_grad(true)}, {1e-2, 2e-2});
    check_gradients([](const std::vector<Tensor>& in) { return ops::log_softmax(in[0]); },
                    {random_tensor({2, 2, 4}, 6).set_requires_grad(true)}, {1e-2, 2e-2});
    Tensor labels = labels_of({2, 0, 3, 3});
    for (float smoothing : {0.0f, 0.1f}) {
      CAPTURE(smoothing);
      check_gradients([&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels, smoothing); },
                      {random_tensor({4, 4}, 7).set_requires_grad(true)}, {1e-2, 2e-2});
      // Scaled upstream gradient: the loss feeds a product.
      check_gradients(
          [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels, smoothing) * 3.0f; },
          {random_tensor({4, 4}, 8).set_requires_grad(true)}, {1e-2, 2e-2});
    }
  }
}

TEST_CASE("cross_entropy rejects bad labels with clear messages") {
  Tensor logits = random_tensor({3, 4}, 9);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, labels_of({0, 4, 1})),
                       doctest::Contains("label 4 at position 1 is outside [0, 4)"), Error);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, labels_of({0, 1, -1})),
                       doctest::Contains("label -1 at position 2"), Error);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, labels_of({0, 1})), doctest::Contains("do not match"), Error);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, Tensor::zeros({3})), doctest::Contains("must be int32"), Error);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(random_tensor({3}, 1), labels_of({0, 1, 2})),
                       doctest::Contains("[N, classes]"), Error);
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, labels_of({0, 1, 2}), 1.5f), doctest::Contains("label_smoothing"),
                       Error);
}
