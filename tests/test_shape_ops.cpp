// concat, pad2d and the channels-last transposes: values against direct
// indexing, gradients, errors.
#include "kernels/copy.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::check_gradients;
using nib::testing::random_tensor;

namespace {

// Element at a multi-index of a contiguous tensor's values.
float at(const std::vector<float>& v, const Shape& s, const std::vector<int64_t>& index) {
  int64_t flat = 0;
  for (int64_t d = 0; d < s.rank(); ++d) flat = flat * s[d] + index[d];
  return v[flat];
}

// Visits every multi-index of `s` in row-major order.
template <class Fn>
void for_each_index(const Shape& s, Fn fn) {
  std::vector<int64_t> index(s.rank(), 0);
  for (int64_t k = 0; k < s.numel(); ++k) {
    fn(index);
    for (int64_t d = s.rank() - 1; d >= 0; --d) {
      if (++index[d] < s[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

TEST_CASE("concat along every dimension matches direct indexing") {
  const Shape base{2, 3, 4};
  for (int64_t dim : {0, 1, 2, -1}) {
    CAPTURE(dim);
    const int64_t d = base.normalize(dim);
    std::vector<Tensor> parts;
    for (int64_t extent : {1, 3, 2}) {
      Shape s = base;
      s[d] = extent;
      parts.push_back(random_tensor(s, 10 + extent));
    }
    Tensor y = ops::concat(parts, dim);
    Shape expected = base;
    expected[d] = 6;
    REQUIRE(y.shape() == expected);
    std::vector<float> yv = y.to_vector();
    for_each_index(y.shape(), [&](const std::vector<int64_t>& index) {
      std::vector<int64_t> local = index;
      size_t part = 0;
      while (local[d] >= parts[part].size(d)) local[d] -= parts[part++].size(d);
      CHECK(at(yv, y.shape(), index) == at(parts[part].to_vector(), parts[part].shape(), local));
    });
  }
}

TEST_CASE("concat gradients match finite differences, and only inputs that need one get one") {
  for (int64_t dim : {0, 1, 3}) {
    CAPTURE(dim);
    Shape a{2, 3, 2, 2}, b = a;
    b[dim] = 1;
    check_gradients([dim](const std::vector<Tensor>& in) { return ops::concat(in, dim); },
                    {random_tensor(a, 1).set_requires_grad(true), random_tensor(b, 2).set_requires_grad(true),
                     random_tensor(a, 3).set_requires_grad(true)});
  }
  Tensor frozen = random_tensor({2, 2}, 4), trained = random_tensor({2, 3}, 5).set_requires_grad(true);
  ops::sum(ops::concat({frozen, trained}, 1)).backward();
  CHECK_FALSE(frozen.grad().defined());
  CHECK(trained.grad().to_vector() == std::vector<float>(6, 1.0f));
}

TEST_CASE("concat rejects mismatched inputs") {
  CHECK_THROWS_WITH_AS(ops::concat({}, 0), doctest::Contains("no tensors"), Error);
  CHECK_THROWS_WITH_AS(ops::concat({Tensor::ones({2, 3}), Tensor::ones({3, 3})}, 1),
                       doctest::Contains("only dim 1 may differ"), Error);
  CHECK_THROWS_WITH_AS(ops::concat({Tensor::ones({2, 3}), Tensor::ones({2, 3, 1})}, 0), doctest::Contains("rank"),
                       Error);
  CHECK_THROWS_AS(ops::concat({Tensor::ones({2, 3})}, 2), Error);
}

TEST_CASE("pad2d pads with zeros and crops with negative amounts") {
  const Shape s{2, 3, 4, 5};
  Tensor x = random_tensor(s, 6);
  std::vector<float> xv = x.to_vector();
  for (ops::Padding2d p : {ops::Padding2d{1, 2, 3, 0}, ops::Padding2d{-1, 0, -2, -1}, ops::Padding2d{2, -3, -1, 4},
                           ops::Padding2d{0, 0, 0, 0}, ops::Padding2d{-5, 6, 0, 0}}) {
    CAPTURE(p.top);
    CAPTURE(p.bottom);
    CAPTURE(p.left);
    CAPTURE(p.right);
    Tensor y = ops::pad2d(x, p);
    REQUIRE(y.shape() == Shape{2, 3, 4 + p.top + p.bottom, 5 + p.left + p.right});
    std::vector<float> yv = y.to_vector();
    for_each_index(y.shape(), [&](const std::vector<int64_t>& i) {
      int64_t h = i[2] - p.top, w = i[3] - p.left;
      bool inside = h >= 0 && h < 4 && w >= 0 && w < 5;
      CHECK(at(yv, y.shape(), i) == (inside ? at(xv, s, {i[0], i[1], h, w}) : 0.0f));
    });
  }
  // Padding then cropping the same amounts gives the input back.
  ops::Padding2d p{1, 2, 0, 3};
  CHECK(ops::pad2d(ops::pad2d(x, p), {-1, -2, 0, -3}).to_vector() == xv);
}

TEST_CASE("pad2d gradients match finite differences") {
  for (ops::Padding2d p : {ops::Padding2d{1, 0, 2, 1}, ops::Padding2d{-1, 1, 0, -2}}) {
    check_gradients([p](const std::vector<Tensor>& in) { return ops::pad2d(in[0], p); },
                    {random_tensor({2, 2, 3, 4}, 7).set_requires_grad(true)});
  }
  check_gradients([](const std::vector<Tensor>& in) { return ops::pad2d(in[0], {1, 1, 1, 1}); },
                  {random_tensor({3, 3}, 8).set_requires_grad(true)});
}

TEST_CASE("pad2d rejects crops that leave nothing") {
  CHECK_THROWS_WITH_AS(ops::pad2d(Tensor::ones({1, 1, 2, 2}), {-1, -1, 0, 0}), doctest::Contains("crops all"), Error);
  CHECK_THROWS_WITH_AS(ops::pad2d(Tensor::ones({4}), {1, 1, 1, 1}), doctest::Contains("at least 2 dims"), Error);
}

TEST_CASE("copy2d copies a strided block and touches nothing else") {
  std::vector<float> src(4 * 6), dst(3 * 8, -1.0f);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i);
  kernels::reference::copy2d(3, 4, src.data() + 1, 6, dst.data() + 2, 8);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 8; ++c)
      CHECK(dst[r * 8 + c] == (c >= 2 && c < 6 ? src[r * 6 + 1 + (c - 2)] : -1.0f));
}

TEST_CASE("to_channels_last and to_channels_first move every element to its NHWC / NCHW place") {
  const Shape nchw{2, 3, 4, 5};
  Tensor x = random_tensor(nchw, 21);
  std::vector<float> xv = x.to_vector();
  Tensor y = ops::to_channels_last(x);
  REQUIRE(y.shape() == Shape{2, 4, 5, 3});
  std::vector<float> yv = y.to_vector();
  for_each_index(nchw, [&](const std::vector<int64_t>& i) {
    CHECK(at(yv, y.shape(), {i[0], i[2], i[3], i[1]}) == at(xv, nchw, i));
  });
  CHECK(ops::to_channels_first(y).to_vector() == xv);
  CHECK_THROWS_WITH_AS(ops::to_channels_last(Tensor::ones({2, 3})), doctest::Contains("expected [N, C, H, W]"), Error);
}

TEST_CASE("channels-last transposes: gradients match finite differences") {
  check_gradients([](const std::vector<Tensor>& in) { return ops::to_channels_last(in[0]); },
                  {random_tensor({2, 3, 2, 3}, 22).set_requires_grad(true)});
  check_gradients([](const std::vector<Tensor>& in) { return ops::to_channels_first(in[0]); },
                  {random_tensor({1, 2, 3, 4}, 23).set_requires_grad(true)});
}
