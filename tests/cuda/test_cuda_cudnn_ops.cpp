// The cuDNN variants (kernels::cudnn) of pooling, batch normalisation and
// softmax against the CPU reference, on odd shapes, forward and backward.
//
// Same pattern as the per-family tests (test_cuda_pool.cpp, ...), which check kernels::cuda:
// kernels::reference on host vectors, kernels::cudnn on device buffers
// holding the same data, then compare. Every device output starts as NaN
// (argmax as -1), so an element the library forgets to write fails the
// comparison instead of passing by luck with stale memory.
//
// What each library variant does beyond calling cuDNN, and so what is tested:
//  - pooling (pool_cudnn.cpp): cuDNN pads symmetrically; asymmetric padding
//    is an explicit copy into a bigger buffer (-inf for max, 0 for average
//    counting padding); average pooling that excludes padding with
//    asymmetric padding falls back to kernels::cuda::. Max pooling finds the
//    winners with its own kernel (pool_argmax.cu) and scatters gradients
//    with atomics. Global average pooling is cudnnReduceTensor forward and
//    cudnnAddTensor backward.
//  - batchnorm (batchnorm_cudnn.cpp): null gamma/beta become ones/zeros,
//    null outputs become scratch; running statistics are both-or-neither
//    (it throws otherwise); the evaluation backward is kernels::cuda::.
//  - softmax (softmax_cudnn.cpp): CUDNN_SOFTMAX_ACCURATE / _LOG per row;
//    cross-entropy is kernels::cuda:: (tested in test_cuda_softmax.cpp).
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/batchnorm.h"
#include "kernels/pool.h"
#include "kernels/softmax.h"
#include "tests/cuda/cuda_helpers.h"

#ifdef NIB_CUDNN  // the cudnn:: pooling, batchnorm and softmax exist only with cuDNN

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::pool_shape_text;
using nib::testing::pool_shapes;
using nib::testing::random_positive;
using nib::testing::random_vector;

namespace {

// A device buffer of n NaNs: whatever the kernel under test does not
// overwrite stays NaN and fails the comparison.
DeviceBuffer<float> nan_buffer(size_t n) { return DeviceBuffer<float>(std::vector<float>(n, NAN)); }

// pool_shapes() (square kernels) plus rectangular kernels and strides,
// stride != kernel, and asymmetric padding in every direction, so that the
// padded copy's offsets are exercised on both axes (odd channels, batch 3,
// 7x5 planes).
std::vector<Pool2dShape> library_pool_shapes() {
  std::vector<Pool2dShape> shapes = pool_shapes();
  shapes.push_back({.N = 3, .C = 5, .H = 7, .W = 5, .kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 1,
                    .pad_top = 1, .pad_bottom = 0, .pad_left = 0, .pad_right = 1});
  shapes.push_back({.N = 3, .C = 7, .H = 7, .W = 5, .kernel_h = 2, .kernel_w = 3, .stride_h = 3, .stride_w = 2,
                    .pad_top = 0, .pad_bottom = 1, .pad_left = 2, .pad_right = 1});
  shapes.push_back({.N = 1, .C = 3, .H = 5, .W = 7, .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 2,
                    .pad_top = 2, .pad_bottom = 0, .pad_left = 1, .pad_right = 1});
  shapes.push_back({.N = 2, .C = 3, .H = 7, .W = 5, .kernel_h = 1, .kernel_w = 3, .stride_h = 1, .stride_w = 3,
                    .pad_top = 0, .pad_bottom = 0, .pad_left = 1, .pad_right = 1});
  return shapes;
}

size_t input_size(const Pool2dShape& s) { return static_cast<size_t>(s.N * s.C * s.H * s.W); }
size_t output_size(const Pool2dShape& s) { return static_cast<size_t>(s.N * s.C * s.P() * s.Q()); }

}  // namespace

// ---- Pooling -------------------------------------------------------------------

TEST_CASE("cudnn max pooling matches the reference, winners included") {
  for (const Pool2dShape& s : library_pool_shapes()) {
    // All-negative inputs (offset -5) catch padding that cuDNN or the padded
    // copy would let win as 0 instead of -inf.
    for (float offset : {0.0f, -5.0f}) {
      const std::string shape = pool_shape_text(s);
      CAPTURE(shape);
      CAPTURE(offset);
      const size_t nx = input_size(s), ny = output_size(s);
      std::vector<float> x = random_vector(nx, 40), y(ny), gy = random_vector(ny, 41), gx(nx);
      for (auto& v : x) v += offset;
      std::vector<int32_t> argmax(ny);
      reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
      reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

      DeviceBuffer<float> dx(x), dy = nan_buffer(ny), dgy(gy), dgx = nan_buffer(nx);
      DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -1));
      cudnn::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
      CHECK(dy.to_host() == y);  // a max is exact
      CHECK(dargmax.to_host() == argmax);
      cudnn::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);

      DeviceBuffer<float> dy_eval = nan_buffer(ny);
      cudnn::max_pool_forward(s, dx.get(), dy_eval.get(), nullptr);  // evaluation: no winners kept
      CHECK(dy_eval.to_host() == y);
    }
  }
}

TEST_CASE("cudnn max pooling lets a NaN win as the reference does: NaN out, the last NaN as the winner") {
  for (const Pool2dShape& s : library_pool_shapes()) {
    const std::string shape = pool_shape_text(s);
    CAPTURE(shape);
    const size_t nx = input_size(s), ny = output_size(s);
    std::vector<float> x = nib::testing::with_nan_pairs(random_vector(nx, 44)), y(ny), gy = random_vector(ny, 45),
                       gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy = nan_buffer(ny), dgy(gy), dgx = nan_buffer(nx);
    DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -1));
    cudnn::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
    CHECK(nib::testing::same_or_both_nan(dy.to_host(), y));
    CHECK(dargmax.to_host() == argmax);
    cudnn::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

TEST_CASE("cudnn average pooling matches the reference with and without counting the padding") {
  // Asymmetric padding without counting it runs kernels::cuda:: by design; the
  // comparison covers that routing too.
  for (const Pool2dShape& s : library_pool_shapes()) {
    for (bool include_pad : {true, false}) {
      const std::string shape = pool_shape_text(s);
      CAPTURE(shape);
      CAPTURE(include_pad);
      const size_t nx = input_size(s), ny = output_size(s);
      std::vector<float> x = random_vector(nx, 42), y(ny), gy = random_vector(ny, 43), gx(nx);
      reference::avg_pool_forward(s, x.data(), y.data(), include_pad);
      reference::avg_pool_backward(s, gy.data(), gx.data(), include_pad);
      DeviceBuffer<float> dx(x), dy = nan_buffer(ny), dgy(gy), dgx = nan_buffer(nx);
      cudnn::avg_pool_forward(s, dx.get(), dy.get(), include_pad);
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);
      // Inputs no window covers (stride > kernel) must get a zero, not stay NaN.
      cudnn::avg_pool_backward(s, dgy.get(), dgx.get(), include_pad);
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
    }
  }
}

TEST_CASE("cudnn global average pooling matches the reference") {
  for (auto [planes, HW] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 49}, {33, 1}, {15, 35}, {2048, 49}, {3, 100003}}) {
    CAPTURE(planes);
    CAPTURE(HW);
    const size_t nx = static_cast<size_t>(planes * HW), ny = static_cast<size_t>(planes);
    std::vector<float> x = random_vector(nx, 44), y(ny), gy = random_vector(ny, 45), gx(nx);
    reference::global_avg_pool_forward(planes, HW, x.data(), y.data());
    reference::global_avg_pool_backward(planes, HW, gy.data(), gx.data());
    DeviceBuffer<float> dx(x), dy = nan_buffer(ny), dgy(gy), dgx = nan_buffer(nx);
    cudnn::global_avg_pool_forward(planes, HW, dx.get(), dy.get());
    cudnn::global_avg_pool_backward(planes, HW, dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);  // 100003 floats summed in different orders
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

TEST_CASE("cudnn pooling rejects what cuDNN cannot describe with a clear nib::Error") {
  DeviceBuffer<float> x(64), y(64);
  DeviceBuffer<int32_t> argmax(64);

  // A window taller than the input leaves no output row: P = (1 - 3) / 2 + 1 = 0.
  Pool2dShape no_rows{.N = 1, .C = 1, .H = 1, .W = 5, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  REQUIRE(no_rows.P() == 0);
  CHECK_THROWS_WITH_AS(cudnn::max_pool_forward(no_rows, x.get(), y.get(), argmax.get()),
                       doctest::Contains("larger than the padded input"), Error);
  CHECK_THROWS_WITH_AS(cudnn::avg_pool_forward(no_rows, x.get(), y.get(), true),
                       doctest::Contains("larger than the padded input"), Error);
  // Far taller: P = (1 - 5) / 1 + 1 = -3, refused with the same message, not as a size too big for cuDNN.
  Pool2dShape far_too_tall{.N = 1, .C = 1, .H = 1, .W = 5, .kernel_h = 5, .kernel_w = 3, .stride_h = 1, .stride_w = 1};
  REQUIRE(far_too_tall.P() < 0);
  CHECK_THROWS_WITH_AS(cudnn::max_pool_forward(far_too_tall, x.get(), y.get(), argmax.get()),
                       doctest::Contains("larger than the padded input"), Error);
  CHECK_THROWS_WITH_AS(cudnn::avg_pool_backward(far_too_tall, y.get(), x.get(), false),
                       doctest::Contains("larger than the padded input"), Error);

  // cuDNN takes int sizes; the check fires before any memory is touched.
  Pool2dShape huge{.N = int64_t{1} << 31, .C = 1, .H = 2, .W = 2};
  CHECK_THROWS_WITH_AS(cudnn::max_pool_forward(huge, x.get(), y.get(), argmax.get()),
                       doctest::Contains("does not fit cuDNN's int sizes"), Error);
  CHECK_THROWS_WITH_AS(cudnn::avg_pool_backward(huge, y.get(), x.get(), true),
                       doctest::Contains("does not fit cuDNN's int sizes"), Error);
  CHECK_THROWS_WITH_AS(cudnn::global_avg_pool_forward(int64_t{1} << 31, 1, x.get(), y.get()),
                       doctest::Contains("does not fit cuDNN's int sizes"), Error);

  CHECK_THROWS_WITH_AS(cudnn::global_avg_pool_forward(3, 0, x.get(), y.get()), doctest::Contains("empty planes"),
                       Error);
}

// ---- Batch normalisation ---------------------------------------------------------

namespace {

// Odd channel counts, 7x5 planes with batch 3, BatchNorm1d layouts (HW = 1)
// with few and many rows, and one large plane.
const std::vector<BatchNormShape> kBatchNormShapes = {
    {1, 3, 7}, {2, 1, 1}, {3, 5, 35}, {8, 3, 1}, {64, 33, 1}, {2, 16, 49}, {3, 7, 5000}};

// One batchnorm problem's inputs on the host and (the same) on the device.
struct BatchNormData {
  BatchNormShape s;
  size_t n, c;
  std::vector<float> x, gamma, beta, gy, running_mean, running_var;
  DeviceBuffer<float> dx, dgamma, dbeta, dgy;

  explicit BatchNormData(const BatchNormShape& shape)
      : s(shape),
        n(static_cast<size_t>(shape.N * shape.C * shape.HW)),
        c(static_cast<size_t>(shape.C)),
        x(shifted(random_vector(n, 50, 2.0f), 5.0f)),  // a mean far from zero: the variance must not cancel
        gamma(random_positive(c, 51)),
        beta(random_vector(c, 52)),
        gy(random_vector(n, 53)),
        running_mean(random_vector(c, 54)),
        running_var(random_positive(c, 55)),
        dx(x),
        dgamma(gamma),
        dbeta(beta),
        dgy(gy) {}

  static std::vector<float> shifted(std::vector<float> v, float by) {
    for (auto& e : v) e += by;
    return v;
  }
};

constexpr float kMomentum = 0.1f;

}  // namespace

TEST_CASE("cudnn batchnorm training forward (running statistics included) and backward match the reference") {
  for (const BatchNormShape& s : kBatchNormShapes) {
    for (float eps : {1e-5f, 1e-3f}) {
      CAPTURE(s.N);
      CAPTURE(s.C);
      CAPTURE(s.HW);
      CAPTURE(eps);
      BatchNormData d(s);
      const size_t n = d.n, c = d.c;

      std::vector<float> y(n), mean(c), invstd(c), rm = d.running_mean, rv = d.running_var;
      reference::batchnorm_forward_train(s, d.x.data(), d.gamma.data(), d.beta.data(), eps, kMomentum, rm.data(),
                                         rv.data(), y.data(), mean.data(), invstd.data());
      DeviceBuffer<float> dy = nan_buffer(n), dmean = nan_buffer(c), dinvstd = nan_buffer(c);
      DeviceBuffer<float> drm(d.running_mean), drv(d.running_var);
      cudnn::batchnorm_forward_train(s, d.dx.get(), d.dgamma.get(), d.dbeta.get(), eps, kMomentum, drm.get(),
                                       drv.get(), dy.get(), dmean.get(), dinvstd.get());
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
      NIB_CHECK_CLOSE(dmean.to_host(), mean, 1e-5);
      NIB_CHECK_CLOSE(dinvstd.to_host(), invstd, 1e-4);  // cuDNN's resultSaveInvVariance is 1/sqrt(var + eps)
      NIB_CHECK_CLOSE(drm.to_host(), rm, 1e-5);
      NIB_CHECK_CLOSE(drv.to_host(), rv, 1e-4);  // the unbiased variance, n/(n-1)

      // Backward from the reference's saved statistics, so only the backward is compared.
      std::vector<float> gx(n), ggamma(c), gbeta(c);
      reference::batchnorm_backward_train(s, d.x.data(), d.gy.data(), d.gamma.data(), mean.data(), invstd.data(),
                                          gx.data(), ggamma.data(), gbeta.data());
      DeviceBuffer<float> dsaved_mean(mean), dsaved_invstd(invstd);
      DeviceBuffer<float> dgx = nan_buffer(n), dggamma = nan_buffer(c), dgbeta = nan_buffer(c);
      cudnn::batchnorm_backward_train(s, d.dx.get(), d.dgy.get(), d.dgamma.get(), dsaved_mean.get(),
                                        dsaved_invstd.get(), dgx.get(), dggamma.get(), dgbeta.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);
      NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
      NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
    }
  }
}

TEST_CASE("cudnn batchnorm evaluation forward and backward match the reference") {
  const float eps = 1e-5f;
  for (const BatchNormShape& s : kBatchNormShapes) {
    CAPTURE(s.N);
    CAPTURE(s.C);
    CAPTURE(s.HW);
    BatchNormData d(s);
    const size_t n = d.n, c = d.c;
    DeviceBuffer<float> drm(d.running_mean), drv(d.running_var);

    std::vector<float> y(n);
    reference::batchnorm_forward_eval(s, d.x.data(), d.gamma.data(), d.beta.data(), d.running_mean.data(),
                                      d.running_var.data(), eps, y.data());
    DeviceBuffer<float> dy = nan_buffer(n);
    cudnn::batchnorm_forward_eval(s, d.dx.get(), d.dgamma.get(), d.dbeta.get(), drm.get(), drv.get(), eps, dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);
    CHECK(drm.to_host() == d.running_mean);  // evaluation leaves the statistics alone
    CHECK(drv.to_host() == d.running_var);

    std::vector<float> gx(n), ggamma(c), gbeta(c);
    reference::batchnorm_backward_eval(s, d.x.data(), d.gy.data(), d.gamma.data(), d.running_mean.data(),
                                       d.running_var.data(), eps, gx.data(), ggamma.data(), gbeta.data());
    DeviceBuffer<float> dgx = nan_buffer(n), dggamma = nan_buffer(c), dgbeta = nan_buffer(c);
    cudnn::batchnorm_backward_eval(s, d.dx.get(), d.dgy.get(), d.dgamma.get(), drm.get(), drv.get(), eps,
                                     dgx.get(), dggamma.get(), dgbeta.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
    NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
    NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
  }
}

TEST_CASE("cudnn batchnorm fills in what the caller leaves null: gamma/beta, statistics, gradients") {
  const float eps = 1e-5f;
  for (const BatchNormShape& s : {BatchNormShape{3, 5, 35}, BatchNormShape{8, 3, 1}}) {
    CAPTURE(s.N);
    CAPTURE(s.C);
    CAPTURE(s.HW);
    BatchNormData d(s);
    const size_t n = d.n, c = d.c;
    const std::vector<float> ones(c, 1.0f), zeros(c, 0.0f);

    // No affine: the reference with gamma = 1, beta = 0; no running statistics.
    std::vector<float> y(n), mean(c), invstd(c);
    reference::batchnorm_forward_train(s, d.x.data(), ones.data(), zeros.data(), eps, kMomentum, nullptr, nullptr,
                                       y.data(), mean.data(), invstd.data());
    DeviceBuffer<float> dy = nan_buffer(n), dmean = nan_buffer(c), dinvstd = nan_buffer(c);
    cudnn::batchnorm_forward_train(s, d.dx.get(), nullptr, nullptr, eps, kMomentum, nullptr, nullptr, dy.get(),
                                     dmean.get(), dinvstd.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
    NIB_CHECK_CLOSE(dmean.to_host(), mean, 1e-5);
    NIB_CHECK_CLOSE(dinvstd.to_host(), invstd, 1e-4);

    // No saved statistics wanted (scratch inside), running statistics updated.
    std::vector<float> y_affine(n), rm = d.running_mean, rv = d.running_var;
    reference::batchnorm_forward_train(s, d.x.data(), d.gamma.data(), d.beta.data(), eps, kMomentum, rm.data(),
                                       rv.data(), y_affine.data(), mean.data(), invstd.data());
    DeviceBuffer<float> dy_affine = nan_buffer(n), drm(d.running_mean), drv(d.running_var);
    cudnn::batchnorm_forward_train(s, d.dx.get(), d.dgamma.get(), d.dbeta.get(), eps, kMomentum, drm.get(),
                                     drv.get(), dy_affine.get(), nullptr, nullptr);
    NIB_CHECK_CLOSE(dy_affine.to_host(), y_affine, 1e-4);
    NIB_CHECK_CLOSE(drm.to_host(), rm, 1e-5);
    NIB_CHECK_CLOSE(drv.to_host(), rv, 1e-4);

    // Backward: all three gradients as the baseline, then subsets.
    std::vector<float> gx(n), ggamma(c), gbeta(c);
    reference::batchnorm_backward_train(s, d.x.data(), d.gy.data(), d.gamma.data(), mean.data(), invstd.data(),
                                        gx.data(), ggamma.data(), gbeta.data());
    DeviceBuffer<float> dsaved_mean(mean), dsaved_invstd(invstd);
    {  // Only the input gradient (a frozen BN layer still passes gradients through).
      DeviceBuffer<float> dgx = nan_buffer(n);
      cudnn::batchnorm_backward_train(s, d.dx.get(), d.dgy.get(), d.dgamma.get(), dsaved_mean.get(),
                                        dsaved_invstd.get(), dgx.get(), nullptr, nullptr);
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);
    }
    {  // Only the parameter gradients.
      DeviceBuffer<float> dggamma = nan_buffer(c), dgbeta = nan_buffer(c);
      cudnn::batchnorm_backward_train(s, d.dx.get(), d.dgy.get(), d.dgamma.get(), dsaved_mean.get(),
                                        dsaved_invstd.get(), nullptr, dggamma.get(), dgbeta.get());
      NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
      NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
    }
    {  // No gamma: the reference with gamma = 1 (ggamma and gbeta do not depend on gamma).
      std::vector<float> gx_plain(n);
      reference::batchnorm_backward_train(s, d.x.data(), d.gy.data(), ones.data(), mean.data(), invstd.data(),
                                          gx_plain.data(), nullptr, nullptr);
      DeviceBuffer<float> dgx = nan_buffer(n), dggamma = nan_buffer(c), dgbeta = nan_buffer(c);
      cudnn::batchnorm_backward_train(s, d.dx.get(), d.dgy.get(), nullptr, dsaved_mean.get(), dsaved_invstd.get(),
                                        dgx.get(), dggamma.get(), dgbeta.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx_plain, 1e-4);
      NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
      NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
    }
  }
}

TEST_CASE("cudnn batchnorm rejects a running mean without a running variance") {
  BatchNormData d({2, 3, 4});
  DeviceBuffer<float> y(d.n), mean(d.c), invstd(d.c), running(d.running_mean);
  CHECK_THROWS_WITH_AS(cudnn::batchnorm_forward_train(d.s, d.dx.get(), d.dgamma.get(), d.dbeta.get(), 1e-5f,
                                                        kMomentum, running.get(), nullptr, y.get(), mean.get(),
                                                        invstd.get()),
                       doctest::Contains("both be given or both be null"), Error);
  CHECK_THROWS_WITH_AS(cudnn::batchnorm_forward_train(d.s, d.dx.get(), d.dgamma.get(), d.dbeta.get(), 1e-5f,
                                                        kMomentum, nullptr, running.get(), y.get(), mean.get(),
                                                        invstd.get()),
                       doctest::Contains("both be given or both be null"), Error);
  CHECK(running.to_host() == d.running_mean);  // nothing was updated before the refusal
}

// ---- Softmax -------------------------------------------------------------------

TEST_CASE("cudnn softmax and log-softmax match the reference, forward and backward") {
  for (int64_t rows : {1, 3, 300}) {
    for (int64_t cols : {1, 7, 10, 33, 1000, 1025}) {
      // +100: exp would overflow without subtracting the row maximum (CUDNN_SOFTMAX_ACCURATE).
      for (float offset : {0.0f, 100.0f}) {
        for (bool log : {false, true}) {
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(offset);
          CAPTURE(log);
          const size_t n = static_cast<size_t>(rows * cols);
          std::vector<float> x = random_vector(n, 56, 5.0f), y(n), gy = random_vector(n, 57), gx(n);
          for (auto& v : x) v += offset;
          reference::softmax_forward(rows, cols, x.data(), y.data(), log);
          reference::softmax_backward(rows, cols, y.data(), gy.data(), gx.data(), log);
          DeviceBuffer<float> dx(x), dy = nan_buffer(n), dgy(gy), dgx = nan_buffer(n);
          cudnn::softmax_forward(rows, cols, dx.get(), dy.get(), log);
          NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);
          DeviceBuffer<float> dy_ref(y);  // the backward from the same y on both sides
          cudnn::softmax_backward(rows, cols, dy_ref.get(), dgy.get(), dgx.get(), log);
          NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
        }
      }
    }
  }
}

TEST_CASE("cudnn softmax refuses sizes beyond cuDNN's int with a clear nib::Error") {
  DeviceBuffer<float> x(4), y(4);
  CHECK_THROWS_WITH_AS(cudnn::softmax_forward(int64_t{1} << 31, 2, x.get(), y.get(), false),
                       doctest::Contains("does not fit cuDNN's int sizes"), Error);
  CHECK_THROWS_WITH_AS(cudnn::softmax_backward(2, int64_t{1} << 31, x.get(), x.get(), y.get(), true),
                       doctest::Contains("does not fit cuDNN's int sizes"), Error);
}

#else
// Without cuDNN (the CUDA-on-CPU build, or a GPU build without it), the whole
// file reduces to this case, so the report counts the missing tests.
TEST_CASE("cuDNN pooling, batchnorm and softmax match the reference" * doctest::skip()) {}
#endif  // NIB_CUDNN
