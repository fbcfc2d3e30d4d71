// Shared test helpers: closeness checks and finite-difference gradient checks.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "util/error.h"

namespace nib::testing {

// The message of the nib::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// max |a - b| divided by the scale of b (at least 1): the error relative to the
// size of the numbers, so large activations get a proportionate tolerance.
inline double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double scale = 1.0, worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return worst / scale;
}

inline double relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  return relative_error(a.to_vector(), b.to_vector());
}

#define NIB_CHECK_CLOSE(a, b, tol)                                  \
  do {                                                              \
    double nib_err_ = ::nib::testing::relative_error((a), (b));     \
    INFO("relative error " << nib_err_ << " > tolerance " << (tol)); \
    CHECK(nib_err_ <= (tol));                                       \
  } while (0)

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f) {
  Generator gen(seed);
  return Tensor::randn(shape, gen, 0.0f, scale);
}

inline std::vector<float> random_vector(size_t n, uint64_t seed, float scale = 1.0f) {
  Generator gen(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = scale * gen.normal();
  return v;
}

// Values that are all at least 0.05 apart (a shuffled 0.05-step ramp from
// -1), so a finite-difference step of 0.01 never changes which element wins
// a max-pooling window.
inline Tensor distinct_tensor(const Shape& shape, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  std::iota(v.begin(), v.end(), 0.0f);
  Generator gen(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(static_cast<uint32_t>(i))]);
  for (auto& x : v) x = 0.05f * x - 1.0f;
  return Tensor::from_vector(v, shape);
}

// Checks the gradients autograd computes for f at `inputs` against central
// finite differences of L = sum(f(inputs) * R), with R a fixed random tensor
// (a random projection exercises every output's gradient, unlike sum()).
// Every input must be a CPU float tensor; inputs with requires_grad are checked.
// The loss is accumulated in double, so eps can be small despite float32 data.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                            double eps = 1e-2, double tolerance = 2e-2) {
  Tensor out0;
  {
    NoGrad no_grad;
    out0 = f(inputs);
  }
  std::vector<float> projection = random_vector(static_cast<size_t>(out0.numel()), 4242);
  auto loss_of = [&](const std::vector<Tensor>& args) {
    NoGrad no_grad;
    std::vector<float> y = f(args).to_vector();
    double total = 0.0;
    for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(y[i]) * projection[i];
    return total;
  };

  for (auto& t : inputs)
    if (t.requires_grad()) t.set_grad(Tensor());
  Tensor out = f(inputs);
  out.backward(Tensor::from_vector(projection, out.shape(), out.device()));

  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input " << k << " received no gradient");
    std::vector<float> analytic = x.grad().to_vector();
    std::vector<float> numeric(analytic.size());
    float* data = x.data();
    for (size_t i = 0; i < analytic.size(); ++i) {
      float saved = data[i];
      data[i] = saved + static_cast<float>(eps);
      double plus = loss_of(inputs);
      data[i] = saved - static_cast<float>(eps);
      double minus = loss_of(inputs);
      data[i] = saved;
      numeric[i] = static_cast<float>((plus - minus) / (2.0 * eps));
    }
    double err = relative_error(analytic, numeric);
    INFO("gradient of input " << k << " (shape " << x.shape().str() << "): relative error " << err);
    CHECK(err <= tolerance);
  }
}

}  // namespace nib::testing
