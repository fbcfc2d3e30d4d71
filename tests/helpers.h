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

// How far an analytic gradient may be from the finite-difference one, per
// element, as llm.c's validate_result has it: |a - n| <= atol + rtol * |n|.
// A tolerance relative to the largest gradient (as relative_error is) would
// let a wrong small gradient through; this one does not
// (tests/test_autograd.cpp: a 10% error in gradients of 0.02 is caught).
struct GradientTolerance {
  double eps = 1e-2;   // the finite-difference step
  double rtol = 2e-2;
  double atol = 1e-3;  // what float32 rounding in the loss costs the numeric gradient
};

// The worst |a - n| / (atol + rtol * |n|) over the elements (<= 1 passes), and where.
struct Mismatch {
  double worst = 0;
  size_t index = 0;
};
inline Mismatch gradient_mismatch(const std::vector<float>& analytic, const std::vector<float>& numeric,
                                  const GradientTolerance& tol) {
  REQUIRE(analytic.size() == numeric.size());
  Mismatch m;
  for (size_t i = 0; i < analytic.size(); ++i) {
    const double a = analytic[i], n = numeric[i];
    const double ratio = std::isfinite(a) ? std::fabs(a - n) / (tol.atol + tol.rtol * std::fabs(n)) : INFINITY;
    if (ratio > m.worst || std::isnan(ratio)) m = {std::isnan(ratio) ? INFINITY : ratio, i};
  }
  return m;
}

// Central finite differences of L = sum(f(inputs) * R) for every input that
// requires gradients, with R a fixed random tensor (a random projection
// exercises every output's gradient, unlike sum()), next to the gradients
// autograd computes. Inputs are CPU float tensors; L is accumulated in
// double, so eps can be small despite float32 data.
struct GradientPair {
  size_t input;
  std::vector<float> analytic, numeric;
};
inline std::vector<GradientPair> gradient_pairs(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                                std::vector<Tensor> inputs, double eps) {
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

  std::vector<GradientPair> pairs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input " << k << " received no gradient");
    GradientPair pair{k, x.grad().to_vector(), {}};
    pair.numeric.resize(pair.analytic.size());
    float* data = x.data();
    for (size_t i = 0; i < pair.analytic.size(); ++i) {
      float saved = data[i];
      data[i] = saved + static_cast<float>(eps);
      double plus = loss_of(inputs);
      data[i] = saved - static_cast<float>(eps);
      double minus = loss_of(inputs);
      data[i] = saved;
      pair.numeric[i] = static_cast<float>((plus - minus) / (2.0 * eps));
    }
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

// Checks every gradient of f at `inputs` against finite differences.
inline void check_gradient_pairs(const std::vector<GradientPair>& pairs, const std::vector<Tensor>& inputs,
                                 const GradientTolerance& tol) {
  for (const GradientPair& pair : pairs) {
    const Mismatch m = gradient_mismatch(pair.analytic, pair.numeric, tol);
    INFO("gradient of input " << pair.input << " (shape " << inputs[pair.input].shape().str() << "), element "
                              << m.index << ": analytic " << pair.analytic[m.index] << ", numeric "
                              << pair.numeric[m.index] << " (" << m.worst << " x the tolerance)");
    CHECK(m.worst <= 1.0);
  }
}

inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& inputs, GradientTolerance tol = {}) {
  check_gradient_pairs(gradient_pairs(f, inputs, tol.eps), inputs, tol);
}

}  // namespace nib::testing
