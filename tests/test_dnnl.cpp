// The oneDNN variants (kernels/cpu/*_dnnl.cpp) against the reference:
// conv2d, pooling and batch norm, forward and backward, on odd shapes (odd
// channels and sizes, stride 2, per-side padding, groups 2, depthwise), all
// through the ops with the family forced to "dnnl" or "reference", so the
// backward passes run as autograd calls them. Also: "dnnl" is chosen only
// when asked. Built without oneDNN, these tests are reported as skipped and
// one test case says why.
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "tests/helpers.h"
#include "tests/impl_comparison.h"

using namespace nib;
using nib::testing::check_pool_matches_reference;
using nib::testing::PoolCase;
using nib::testing::random_tensor;

namespace {

#ifdef NIB_DNNL
constexpr bool kHaveDnnl = true;
#else
constexpr bool kHaveDnnl = false;
#endif

const auto kSkip = doctest::skip(!kHaveDnnl);

// ---- conv2d ---------------------------------------------------------------------

struct ConvCase {
  const char* what;
  Shape x;      // [N, C, H, W]
  int64_t K, R, S;
  Conv2dOptions options;
};

Conv2dOptions conv_options(int64_t stride, Padding2d padding, int64_t groups = 1, int64_t dilation = 1) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.padding = padding;
  o.groups = groups;
  o.dilation_h = o.dilation_w = dilation;
  return o;
}

std::vector<ConvCase> conv_cases() {
  return {
      {"odd channels and sizes, 3x3 pad 1", {2, 5, 9, 7}, 3, 3, 3, conv_options(1, Padding2d::same(1))},
      {"1x1", {3, 7, 5, 6}, 9, 1, 1, conv_options(1, {})},
      {"stride 2, pad 1, odd size", {2, 3, 11, 9}, 5, 3, 3, conv_options(2, Padding2d::same(1))},
      {"TF-SAME asymmetric padding, stride 2", {2, 3, 8, 8}, 4, 3, 3, conv_options(2, {0, 1, 0, 1})},
      {"asymmetric padding the other way, non-square kernel", {1, 3, 6, 7}, 3, 3, 2, conv_options(1, {2, 0, 1, 0})},
      {"dilation 2", {2, 3, 10, 9}, 4, 3, 3, conv_options(1, Padding2d::same(2), 1, 2)},
      {"groups 2", {2, 6, 7, 7}, 4, 3, 3, conv_options(1, Padding2d::same(1), 2)},
      {"groups 2, stride 2", {3, 4, 9, 8}, 6, 3, 3, conv_options(2, {1, 0, 1, 1}, 2)},
      {"depthwise 3x3", {2, 5, 9, 8}, 5, 3, 3, conv_options(1, Padding2d::same(1), 5)},
      {"depthwise stride 2, TF-SAME", {3, 7, 9, 10}, 7, 3, 3, conv_options(2, {1, 1, 0, 1}, 7)},
      {"depth multiplier 2", {2, 3, 6, 6}, 6, 3, 3, conv_options(1, Padding2d::same(1), 3)},
      {"kernel as large as the padded input", {2, 2, 3, 4}, 3, 5, 5, conv_options(1, {1, 1, 0, 1})},
      // Enough channels for oneDNN's blocked layouts (16-channel blocks), with a partial block.
      {"17 channels, stride 2", {2, 17, 9, 8}, 19, 3, 3, conv_options(2, Padding2d::same(1))},
      {"depthwise, 17 channels", {2, 17, 7, 7}, 17, 3, 3, conv_options(1, Padding2d::same(1), 17)},
      {"1x1, 33 channels", {2, 33, 5, 5}, 18, 1, 1, conv_options(1, {})},
  };
}

struct ConvResult {
  Tensor y, gx, gw, gb;
};

ConvResult conv_with(const char* impl, const ConvCase& c, bool with_bias) {
  kernels::Use use("conv2d", impl);
  Tensor x = random_tensor(c.x, 1).set_requires_grad(true);
  Tensor w = random_tensor({c.K, c.x[1] / c.options.groups, c.R, c.S}, 2, 0.5f).set_requires_grad(true);
  Tensor b = with_bias ? random_tensor({c.K}, 3).set_requires_grad(true) : Tensor();
  Tensor y = ops::conv2d(x, w, b, c.options);
  y.backward(random_tensor(y.shape(), 4));
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == impl);
  return {y.detach(), x.grad(), w.grad(), with_bias ? b.grad() : Tensor()};
}

// ---- pooling ----------------------------------------------------------------------

ops::Pool2dOptions pool(int64_t kh, int64_t kw, int64_t sh, int64_t sw, Padding2d padding = {}) {
  return testing::pool_options(kh, kw, sh, sw, padding);
}

std::vector<PoolCase> pool_cases() {
  return {
      {"2x2 stride 2, odd size (last row and column unused)", {2, 3, 7, 9}, pool(2, 2, 2, 2)},
      {"3x3 stride 2 pad 1, odd channels", {2, 5, 9, 7}, pool(3, 3, 2, 2, Padding2d::same(1))},
      {"overlapping windows, stride 1", {1, 3, 6, 5}, pool(3, 3, 1, 1)},
      {"asymmetric (TF 'SAME') padding", {3, 2, 6, 5}, pool(3, 2, 2, 2, {0, 1, 1, 0})},
      {"non-square kernel and stride", {2, 1, 7, 9}, pool(2, 3, 1, 2, {1, 1, 0, 2})},
      {"stride larger than the kernel", {2, 2, 9, 8}, pool(2, 2, 3, 3)},
      {"padding beyond half the kernel", {1, 2, 5, 5}, pool(3, 3, 1, 1, Padding2d::same(2))},
  };
}

}  // namespace

TEST_CASE("dnnl: nib was built without oneDNN, so the dnnl tests are skipped" * doctest::skip(kHaveDnnl)) {
  MESSAGE("dnnl tests skipped: nib was built without oneDNN (Debian: libdnnl-dev; CMake: NIB_DNNL)");
  CHECK_FALSE(kernels::has_impl("conv2d", "dnnl"));
}

TEST_CASE("dnnl conv2d matches the reference, forward and both backwards, with and without bias" * kSkip) {
  for (const ConvCase& c : conv_cases()) {
    for (bool with_bias : {true, false}) {
      CAPTURE(c.what);
      CAPTURE(with_bias);
      ConvResult ref = conv_with("reference", c, with_bias);
      ConvResult dnnl = conv_with("dnnl", c, with_bias);
      NIB_CHECK_CLOSE(dnnl.y, ref.y, 1e-5);
      NIB_CHECK_CLOSE(dnnl.gx, ref.gx, 1e-5);
      NIB_CHECK_CLOSE(dnnl.gw, ref.gw, 1e-5);
      if (with_bias) NIB_CHECK_CLOSE(dnnl.gb, ref.gb, 1e-5);
    }
  }
}

TEST_CASE("dnnl conv2d with a frozen weight computes the input gradient alone" * kSkip) {
  kernels::Use use("conv2d", "dnnl");
  const ConvCase c = conv_cases()[2];
  Tensor x = random_tensor(c.x, 1).set_requires_grad(true);
  Tensor w = random_tensor({c.K, c.x[1], c.R, c.S}, 2, 0.5f);
  Tensor y = ops::conv2d(x, w, Tensor(), c.options);
  Tensor gy = random_tensor(y.shape(), 4);
  y.backward(gy);
  Tensor gx_dnnl = x.grad();
  kernels::Use ref("conv2d", "reference");
  Tensor x2 = x.detach().clone().set_requires_grad(true);
  ops::conv2d(x2, w, Tensor(), c.options).backward(gy);
  NIB_CHECK_CLOSE(gx_dnnl, x2.grad(), 1e-5);
}

TEST_CASE("dnnl max_pool2d matches the reference, forward and backward" * kSkip) {
  for (const PoolCase& c : pool_cases()) {
    CAPTURE(c.what);
    const Tensor x = random_tensor(c.x, 1);
    check_pool_matches_reference("dnnl", x, [&](const Tensor& in) { return ops::max_pool2d(in, c.options); });
    // Without a gradient to come, no argmax is asked for: oneDNN's inference primitive runs.
    Tensor y_ref, y_dnnl;
    {
      kernels::Use use("pool", "reference");
      y_ref = ops::max_pool2d(x, c.options);
    }
    {
      kernels::Use use("pool", "dnnl");
      y_dnnl = ops::max_pool2d(x, c.options);
    }
    NIB_CHECK_CLOSE(y_dnnl, y_ref, 1e-6);
  }
}

TEST_CASE("dnnl avg_pool2d matches the reference, with and without padding in the divisor" * kSkip) {
  for (bool include_pad : {false, true}) {
    for (const PoolCase& c : pool_cases()) {
      CAPTURE(c.what);
      CAPTURE(include_pad);
      check_pool_matches_reference("dnnl", random_tensor(c.x, 2),
                                   [&](const Tensor& x) { return ops::avg_pool2d(x, c.options, include_pad); });
    }
  }
}

TEST_CASE("dnnl global_avg_pool matches the reference" * kSkip) {
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{2, 3, 5, 7}, Shape{4, 33, 7, 7}}) {
    CAPTURE(s.str());
    check_pool_matches_reference("dnnl", random_tensor(s, 3), [](const Tensor& x) { return ops::global_avg_pool(x); });
  }
}

TEST_CASE("dnnl batch_norm matches the reference, training and evaluation, forward and backward" * kSkip) {
  const std::vector<Shape> shapes = {{1, 1, 1, 2}, {1, 3, 5, 7}, {4, 3, 1, 1}, {2, 5, 4, 3},
                                     {8, 17, 9, 9}, {5, 4}, {2, 1}, {64, 33}};
  testing::check_batch_norm_matches_reference("dnnl", shapes);
}

TEST_CASE("dnnl runs only when asked: fast stays the default, and NIB_KERNELS-style 'dnnl' selects it" * kSkip) {
  kernels::reset();
  Tensor x = random_tensor({2, 3, 8, 8}, 1);
  Tensor w = random_tensor({4, 3, 3, 3}, 2);
  ops::conv2d(x, w, Tensor(), conv_options(1, Padding2d::same(1)));
  ops::max_pool2d(x, pool(2, 2, 2, 2));
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "fast");
  CHECK(kernels::last_chosen("pool", DeviceType::CPU) == "fast");

  kernels::configure("dnnl");  // what NIB_KERNELS=dnnl or --kernels dnnl does
  ops::conv2d(x, w, Tensor(), conv_options(1, Padding2d::same(1)));
  ops::max_pool2d(x, pool(2, 2, 2, 2));
  Tensor ones = Tensor::ones({3});
  ops::batch_norm(x, ones, Tensor::zeros({3}), Tensor::zeros({3}), Tensor::ones({3}), true, 0.1f, 1e-5f);
  ops::matmul(random_tensor({4, 5}, 3), random_tensor({5, 6}, 4));
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "dnnl");
  CHECK(kernels::last_chosen("pool", DeviceType::CPU) == "dnnl");
  CHECK(kernels::last_chosen("batchnorm", DeviceType::CPU) == "dnnl");
  CHECK(kernels::last_chosen("gemm", DeviceType::CPU) == "fast");  // no dnnl gemm: the default
  kernels::reset();

  kernels::configure("conv2d=dnnl");  // --kernels conv2d=dnnl
  ops::conv2d(x, w, Tensor(), conv_options(1, Padding2d::same(1)));
  ops::max_pool2d(x, pool(2, 2, 2, 2));
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "dnnl");
  CHECK(kernels::last_chosen("pool", DeviceType::CPU) == "fast");
  kernels::reset();
}
