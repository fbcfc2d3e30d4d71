// conv2d: the fast kernels against the reference on awkward shapes, gradient
// checks through ops::conv2d, and the argument errors.
#include "kernels/conv2d.h"

#include <array>
#include <vector>

#include "kernels/registry.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;
using nib::testing::random_vector;
using kernels::Conv2dProblem;

namespace {

struct NamedShape {
  const char* name;
  Conv2dProblem shape;
};

// A convolution being put together in a test: sizes and options, turned into
// a Conv2dProblem (which checks it) where a kernel needs one.
struct ConvSpec {
  int64_t N, C, H, W, K, R, S;
  Conv2dOptions options;
  operator Conv2dProblem() const { return Conv2dProblem::make({N, C, H, W}, {K, C / options.groups, R, S}, options); }
};

ConvSpec conv(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S) {
  return {N, C, H, W, K, R, S, {}};
}
ConvSpec with_stride(ConvSpec s, int64_t sh, int64_t sw) {
  s.options.stride_h = sh, s.options.stride_w = sw;
  return s;
}
ConvSpec with_padding(ConvSpec s, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  s.options.padding = {top, bottom, left, right};
  return s;
}
ConvSpec with_dilation(ConvSpec s, int64_t dh, int64_t dw) {
  s.options.dilation_h = dh, s.options.dilation_w = dw;
  return s;
}
ConvSpec with_groups(ConvSpec s, int64_t groups) {
  s.options.groups = groups;
  return s;
}

// Shapes chosen to hit each special path and edge of the fast kernels.
std::vector<NamedShape> awkward_shapes() {
  return {
      {"1x1 stride 1 (no im2col)", conv(2, 5, 7, 6, 3, 1, 1)},
      {"1x1 stride 2", with_stride(conv(2, 4, 7, 7, 6, 1, 1), 2, 2)},
      {"1x1 padded", with_padding(conv(2, 3, 4, 5, 2, 1, 1), 1, 1, 1, 1)},
      {"3x3 padded 1", with_padding(conv(3, 3, 9, 8, 4, 3, 3), 1, 1, 1, 1)},
      {"non-square kernel and image", with_padding(conv(2, 3, 11, 6, 5, 2, 5), 1, 0, 2, 2)},
      {"stride larger than the kernel", with_stride(conv(2, 3, 13, 11, 4, 2, 2), 3, 4)},
      {"padding >= kernel/2, stride 2", with_stride(with_padding(conv(2, 2, 8, 9, 3, 3, 3), 2, 2, 2, 2), 2, 2)},
      {"TF-SAME asymmetric padding", with_stride(with_padding(conv(2, 3, 8, 8, 4, 3, 3), 0, 1, 0, 1), 2, 2)},
      {"asymmetric padding the other way", with_padding(conv(1, 2, 6, 7, 3, 3, 2), 2, 0, 1, 0)},
      {"dilation 2", with_dilation(with_padding(conv(2, 3, 10, 9, 4, 3, 3), 2, 2, 2, 2), 2, 2)},
      {"dilation 2x3 and stride 2", with_stride(with_dilation(conv(2, 2, 12, 13, 3, 2, 3), 2, 3), 2, 2)},
      {"groups 2", with_groups(with_padding(conv(2, 4, 7, 7, 6, 3, 3), 1, 1, 1, 1), 2)},
      {"groups 3, 1x1", with_groups(conv(2, 6, 5, 5, 9, 1, 1), 3)},
      {"depthwise 3x3", with_groups(with_padding(conv(2, 5, 9, 8, 5, 3, 3), 1, 1, 1, 1), 5)},
      {"depthwise stride 2, TF-SAME",
       with_groups(with_stride(with_padding(conv(3, 4, 9, 10, 4, 3, 3), 1, 1, 0, 1), 2, 2), 4)},
      {"depthwise 5x5 dilated", with_groups(with_dilation(with_padding(conv(1, 3, 12, 11, 3, 5, 5), 4, 4, 3, 3), 2, 1), 3)},
      {"depth multiplier 2 (groups == C < K)", with_groups(with_padding(conv(2, 3, 6, 6, 6, 3, 3), 1, 1, 1, 1), 3)},
      {"batch 1, many channels (parallel GEMM path)", with_padding(conv(1, 37, 15, 14, 33, 3, 3), 1, 1, 1, 1)},
      {"batch larger than the thread count", with_padding(conv(9, 3, 6, 5, 4, 3, 3), 1, 1, 1, 1)},
      {"kernel as large as the padded input", with_padding(conv(2, 2, 3, 4, 3, 5, 5), 1, 1, 0, 1)},
  };
}

std::vector<float> run_forward(kernels::Conv2dForwardFn* fn, const Conv2dProblem& s, const std::vector<float>& x,
                               const std::vector<float>& w, const std::vector<float>& b) {
  std::vector<float> y(static_cast<size_t>(s.N * s.K * s.P * s.Q), -7.0f);  // garbage it must overwrite
  fn(s, x.data(), w.data(), b.data(), y.data());
  return y;
}

}  // namespace

TEST_CASE("fast conv2d matches the reference, forward and both backwards") {
  for (const NamedShape& named : awkward_shapes()) {
    // Not a structured binding: clang 14 cannot capture one in INFO's lambda.
    const char* name = named.name;
    const Conv2dProblem& s = named.shape;
    INFO(std::string(name) << ": N=" << s.N << " C=" << s.C << " H=" << s.H << " W=" << s.W << " K=" << s.K << " R=" << s.R
              << " S=" << s.S << " groups=" << s.groups);
    REQUIRE(s.P >= 1);
    REQUIRE(s.Q >= 1);
    const size_t x_size = static_cast<size_t>(s.N * s.C * s.H * s.W);
    const size_t w_size = static_cast<size_t>(s.K * s.C_per_group * s.R * s.S);
    const size_t y_size = static_cast<size_t>(s.N * s.K * s.P * s.Q);
    auto x = random_vector(x_size, 1), w = random_vector(w_size, 2), b = random_vector(s.K, 3);
    auto gy = random_vector(y_size, 4);

    NIB_CHECK_CLOSE(run_forward(kernels::fast::conv2d_forward, s, x, w, b),
                    run_forward(kernels::reference::conv2d_forward, s, x, w, b), 1e-5);

    std::vector<float> gx_fast(x_size, -7.0f), gx_ref(x_size, 7.0f);
    kernels::fast::conv2d_backward_data(s, gy.data(), w.data(), gx_fast.data());
    kernels::reference::conv2d_backward_data(s, gy.data(), w.data(), gx_ref.data());
    NIB_CHECK_CLOSE(gx_fast, gx_ref, 1e-5);

    std::vector<float> gw_fast(w_size, -7.0f), gw_ref(w_size, 7.0f), gb_fast(s.K, -7.0f), gb_ref(s.K, 7.0f);
    kernels::fast::conv2d_backward_weight(s, x.data(), gy.data(), gw_fast.data(), gb_fast.data());
    kernels::reference::conv2d_backward_weight(s, x.data(), gy.data(), gw_ref.data(), gb_ref.data());
    NIB_CHECK_CLOSE(gw_fast, gw_ref, 1e-5);
    NIB_CHECK_CLOSE(gb_fast, gb_ref, 1e-5);
  }
}

TEST_CASE("conv2d without bias leaves out the bias in both implementations") {
  Conv2dProblem s = with_padding(conv(2, 3, 5, 5, 4, 3, 3), 1, 1, 1, 1);
  auto x = random_vector(static_cast<size_t>(2 * 3 * 25), 5), w = random_vector(4 * 3 * 9, 6);
  for (auto* forward : {kernels::reference::conv2d_forward, kernels::fast::conv2d_forward}) {
    std::vector<float> with_zero_bias = run_forward(forward, s, x, w, std::vector<float>(4, 0.0f));
    std::vector<float> y(with_zero_bias.size());
    forward(s, x.data(), w.data(), nullptr, y.data());
    CHECK(y == with_zero_bias);
  }
}

TEST_CASE("the reference conv2d computes a hand-checked example") {
  // x = 1..9 in a 3x3 image, w = a 2x2 of ones, stride 1, no padding: each
  // output is the sum of a 2x2 window.
  Conv2dProblem s = conv(1, 1, 3, 3, 1, 2, 2);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 1, 1, 1}, b = {0.5f}, y(4);
  kernels::reference::conv2d_forward(s, x.data(), w.data(), b.data(), y.data());
  CHECK(y == std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f});
}

// ---- ops::conv2d: gradients and the kernel selection -----------------------

namespace {

void check_conv_gradients(const Shape& x_shape, const Shape& w_shape, const ops::Conv2dOptions& options) {
  Tensor x = random_tensor(x_shape, 11).set_requires_grad(true);
  Tensor w = random_tensor(w_shape, 12).set_requires_grad(true);
  Tensor b = random_tensor({w_shape[0]}, 13).set_requires_grad(true);
  check_gradients([&](const std::vector<Tensor>& in) { return ops::conv2d(in[0], in[1], in[2], options); },
                  {x, w, b});
}

}  // namespace

TEST_CASE("conv2d gradients match finite differences") {
  ops::Conv2dOptions plain;
  plain.padding = ops::Padding2d::same(1);
  ops::Conv2dOptions tf_same;
  tf_same.stride_h = tf_same.stride_w = 2;
  tf_same.padding = {0, 1, 0, 1};
  ops::Conv2dOptions dilated_groups;
  dilated_groups.dilation_h = 2;
  dilated_groups.padding = {2, 2, 1, 1};
  dilated_groups.groups = 2;
  ops::Conv2dOptions depthwise;
  depthwise.stride_h = depthwise.stride_w = 2;
  depthwise.padding = ops::Padding2d::same(1);
  depthwise.groups = 3;

  for (const char* impl : {"reference", "fast"}) {
    INFO("implementation: " << std::string(impl));
    kernels::Use use("conv2d", impl);
    check_conv_gradients({2, 2, 5, 4}, {3, 2, 3, 3}, plain);
    check_conv_gradients({1, 2, 6, 5}, {2, 2, 3, 3}, tf_same);
    check_conv_gradients({2, 4, 6, 5}, {2, 2, 2, 3}, dilated_groups);
    check_conv_gradients({2, 3, 5, 6}, {3, 1, 3, 3}, depthwise);
    CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == impl);
  }
}

TEST_CASE("a frozen conv weight gets no gradient but the bias and input still do") {
  Tensor x = random_tensor({2, 3, 5, 5}, 21).set_requires_grad(true);
  Tensor w = random_tensor({4, 3, 3, 3}, 22);  // frozen
  Tensor b = random_tensor({4}, 23).set_requires_grad(true);
  ops::Conv2dOptions options;
  options.padding = ops::Padding2d::same(1);
  Tensor y = ops::conv2d(x, w, b, options);
  ops::sum(y).backward();
  CHECK_FALSE(w.grad().defined());
  REQUIRE(b.grad().defined());
  REQUIRE(x.grad().defined());
  // d sum(y) / d b[k] = the number of outputs in channel k.
  CHECK(b.grad().to_vector() == std::vector<float>(4, 2.0f * 5 * 5));
}

TEST_CASE("conv2d output shape follows stride, padding and dilation") {
  ops::Conv2dOptions options;
  options.stride_h = 2, options.stride_w = 3;
  options.padding = {0, 1, 2, 0};
  options.dilation_w = 2;
  Tensor y = ops::conv2d(Tensor::ones({2, 3, 9, 10}), Tensor::ones({5, 3, 3, 2}), Tensor(), options);
  // H: (9 + 1 - 3) / 2 + 1 = 4; W: (10 + 2 - 3) / 3 + 1 = 4
  CHECK(y.shape() == Shape{2, 5, 4, 4});
}

TEST_CASE("conv2d rejects bad arguments with messages that say what is wrong") {
  ops::Conv2dOptions none;
  auto grouped = [](int64_t g) {
    ops::Conv2dOptions o;
    o.groups = g;
    return o;
  };
  Tensor x = Tensor::ones({1, 4, 5, 5});
  CHECK_THROWS_WITH_AS(ops::conv2d(Tensor::ones({4, 5, 5}), Tensor::ones({2, 4, 3, 3}), Tensor(), none),
                       doctest::Contains("input must be [N, C, H, W]"), nib::Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 3, 3, 3}), Tensor(), none),
                       doctest::Contains("expects 3 input channels"), nib::Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 2, 3, 3}), Tensor(), grouped(3)),
                       doctest::Contains("not divisible by groups=3"), nib::Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), grouped(2)),
                       doctest::Contains("3 output channels, not divisible by groups=2"), nib::Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 4, 7, 3}), Tensor(), none),
                       doctest::Contains("larger than the padded input 5x5"), nib::Error);
  ops::Conv2dOptions dilated;
  dilated.dilation_h = dilated.dilation_w = 3;
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor(), dilated),
                       doctest::Contains("dilated to 7x7"), nib::Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor::ones({3}), none),
                       doctest::Contains("bias [3] does not match"), nib::Error);
  ops::Conv2dOptions zero_stride;
  zero_stride.stride_h = 0;
  CHECK_THROWS_WITH_AS(ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor(), zero_stride),
                       doctest::Contains("stride must be at least 1"), nib::Error);
  ops::Conv2dOptions negative_pad;
  negative_pad.padding.left = -1;
  CHECK_THROWS_AS(ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor(), negative_pad), nib::Error);
  // Padding makes room for a kernel larger than the image itself.
  ops::Conv2dOptions padded;
  padded.padding = ops::Padding2d::same(1);
  CHECK(ops::conv2d(x, Tensor::ones({2, 4, 7, 7}), Tensor(), padded).shape() == Shape{1, 2, 1, 1});
}

// Conv2dProblem::make is the one place a convolution is checked: every path
// (ops::conv2d, the layers, the Keras importer, benchmarks and kernel tests)
// goes through it, and every kernel receives its result.
TEST_CASE("Conv2dProblem::make computes P and Q and rejects bad problems with clear messages") {
  using Dims = std::array<int64_t, 4>;
  auto make = [](Dims x, Dims w, Conv2dOptions o = {}) { return Conv2dProblem::make(x, w, o); };
  auto rejects = [&](Dims x, Dims w, Conv2dOptions o, const char* message) {
    INFO("expected: " << message);
    CHECK_THROWS_WITH_AS(make(x, w, o), doctest::Contains(message), nib::Error);
  };
  Conv2dOptions none;

  SUBCASE("valid problems") {
    Conv2dOptions o;
    o.stride_h = 2, o.stride_w = 3, o.padding = {0, 1, 2, 0}, o.dilation_w = 2;
    const Conv2dProblem s = make({2, 3, 9, 10}, {5, 3, 3, 2}, o);
    CHECK(s.P == 4);  // (9 + 1 - 3) / 2 + 1
    CHECK(s.Q == 4);  // (10 + 2 - 3) / 3 + 1
    CHECK(s.y_shape() == Dims{2, 5, 4, 4});
    CHECK(s.x_shape() == Dims{2, 3, 9, 10});
    CHECK(s.w_shape() == Dims{5, 3, 3, 2});
    CHECK(s.fits_int32());
    // An empty batch is a valid problem.
    CHECK(make({0, 3, 5, 5}, {4, 3, 3, 3}).P == 3);
    // Depthwise, and the channel counts per group.
    Conv2dOptions depthwise;
    depthwise.groups = 4;
    const Conv2dProblem d = make({1, 4, 5, 5}, {8, 1, 3, 3}, depthwise);
    CHECK(d.C_per_group == 1);
    CHECK(d.K_per_group == 2);
    CHECK_FALSE(d.is_depthwise());  // K != C: a depth multiplier of 2
    CHECK(make({1, 4, 5, 5}, {4, 1, 3, 3}, depthwise).is_depthwise());
  }
  SUBCASE("TensorFlow 'SAME' padding is resolved from the input size") {
    Conv2dOptions same;
    same.padding_mode = PaddingMode::TfSame;
    same.stride_h = same.stride_w = 2;
    same.padding = Padding2d::same(7);  // ignored in TfSame mode
    const Conv2dProblem even = make({1, 1, 8, 7}, {1, 1, 3, 3}, same);
    CHECK(even.pad_top == 0);  // 8 rows, stride 2: one row of padding, after
    CHECK(even.pad_bottom == 1);
    CHECK(even.pad_left == 1);  // 7 columns: two of padding, one each side
    CHECK(even.pad_right == 1);
    CHECK(even.P == 4);  // ceil(8 / 2)
    CHECK(even.Q == 4);  // ceil(7 / 2)
  }
  SUBCASE("zero sizes") {
    rejects({1, 0, 5, 5}, {2, 0, 3, 3}, none, "input [1, 0, 5, 5] must have at least one channel, row and column");
    rejects({1, 3, 0, 5}, {2, 3, 3, 3}, none, "input [1, 3, 0, 5] must have at least one channel, row and column");
    rejects({1, 3, 5, 0}, {2, 3, 3, 3}, none, "input [1, 3, 5, 0] must have at least one channel");
    rejects({-1, 3, 5, 5}, {2, 3, 3, 3}, none, "(N may be 0)");
    rejects({1, 3, 5, 5}, {0, 3, 3, 3}, none, "weight [0, 3, 3, 3] must have at least one output and one input channel");
    rejects({1, 3, 5, 5}, {2, 3, 0, 3}, none, "empty kernel [2, 3, 0, 3]");
    rejects({1, 3, 5, 5}, {2, 3, 3, -1}, none, "empty kernel [2, 3, 3, -1]");
  }
  SUBCASE("bad options") {
    Conv2dOptions o;
    o.stride_w = 0;
    rejects({1, 3, 5, 5}, {2, 3, 3, 3}, o, "stride must be at least 1, got 1x0");
    o = {};
    o.dilation_h = -2;
    rejects({1, 3, 5, 5}, {2, 3, 3, 3}, o, "dilation must be at least 1, got -2x1");
    o = {};
    o.groups = 0;
    rejects({1, 3, 5, 5}, {2, 3, 3, 3}, o, "groups must be at least 1, got 0");
    o = {};
    o.padding.right = -1;
    rejects({1, 3, 5, 5}, {2, 3, 3, 3}, o, "padding must not be negative, got (top 0, bottom 0, left 0, right -1)");
  }
  SUBCASE("channels and groups") {
    Conv2dOptions o;
    o.groups = 2;
    rejects({1, 3, 5, 5}, {2, 1, 3, 3}, o, "input has 3 channels, not divisible by groups=2");
    rejects({1, 4, 5, 5}, {3, 2, 3, 3}, o, "weight [3, 2, 3, 3] has 3 output channels, not divisible by groups=2");
    rejects({1, 4, 5, 5}, {2, 4, 3, 3}, o,
            "weight [2, 4, 3, 3] expects 8 input channels (4 per group x groups=2) but the input [1, 4, 5, 5] has 4");
  }
  SUBCASE("a kernel larger than the padded input") {
    rejects({1, 3, 5, 5}, {2, 3, 6, 3}, none, "kernel 6x3 is larger than the padded input 5x5 (input [1, 3, 5, 5])");
    Conv2dOptions dilated;
    dilated.dilation_h = dilated.dilation_w = 3;
    rejects({1, 3, 5, 5}, {2, 3, 3, 3}, dilated, "kernel 3x3 (dilated to 7x7) is larger than the padded input 5x5");
    Conv2dOptions padded;
    padded.padding = {1, 0, 0, 0};
    CHECK(make({1, 3, 5, 5}, {2, 3, 6, 3}, padded).P == 1);  // padding makes room
  }
}
