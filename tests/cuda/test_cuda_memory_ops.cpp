// nib's own CUDA kernels (kernels::custom) against the CPU reference on odd
// shapes, the caching allocator, and the runtime's copies.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and kernels::custom on device buffers holding the same data, then
// compares. Sizes are chosen to hit the edges of the launch logic: 1 element,
// fewer than a warp (7), just over a warp (33), and one and a half times what
// a capped grid covers in one stride (grid_for: 32 blocks of 256 threads per
// SM, 1.6 million on an H100 or H200), odd so that no power of two divides it.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "device/cuda/allocator.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/copy.h"
#include "kernels/counter_rng.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"
#include "kernels/parametric_activation.h"
#include "kernels/pool.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "ops/ops.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::broadcast;
using nib::testing::DeviceBuffer;
using nib::testing::pool_shapes;
using nib::testing::product;
using nib::testing::random_positive;
using nib::testing::random_vector;

namespace {

std::vector<int64_t> sizes() {
  const int64_t one_stride = int64_t{32} * 256 * nib::cuda::multiprocessor_count();
  return {1, 7, 33, one_stride * 3 / 2 + 1};
}

}  // namespace

// ---- Runtime and allocator ------------------------------------------------------

TEST_CASE("cuda copies round-trip host -> device -> device -> host") {
  for (int64_t n : sizes()) {
    std::vector<float> host = random_vector(static_cast<size_t>(n), 1);
    DeviceBuffer<float> a(host), b(static_cast<size_t>(n));
    nib::cuda::copy(b.get(), a.get(), sizeof(float) * n, nib::cuda::CopyKind::DeviceToDevice);
    CHECK(b.to_host() == host);
  }
}

TEST_CASE("allocator size classes: 512 B steps up to 1 MiB, 2 MiB steps above") {
  using A = nib::cuda::CachingAllocator;
  CHECK(A::round_size(1) == 512);
  CHECK(A::round_size(512) == 512);
  CHECK(A::round_size(513) == 1024);
  CHECK(A::round_size(size_t{1} << 20) == size_t{1} << 20);
  CHECK(A::round_size((size_t{1} << 20) + 1) == size_t{2} << 20);
  CHECK(A::round_size(size_t{5} << 20) == size_t{6} << 20);
}

TEST_CASE("allocator reuses a released block of the same size class") {
  void* first = nib::cuda::allocate(1000);
  nib::cuda::release(first);
  void* second = nib::cuda::allocate(900);  // same 1024-byte class
  CHECK(second == first);
  void* third = nib::cuda::allocate(900);  // the cached block is taken: a new one
  CHECK(third != second);
  nib::cuda::release(second);
  nib::cuda::release(third);
}

TEST_CASE("allocator statistics follow allocations, releases and empty_cache") {
  nib::cuda::empty_cache();
  nib::cuda::MemoryStats before = nib::cuda::memory_stats();
  CHECK(before.cached == 0);
  CHECK(before.device_total > 0);

  const size_t bytes = (size_t{3} << 20) + 5;  // a large request: rounds to 4 MiB
  const size_t rounded = nib::cuda::CachingAllocator::round_size(bytes);
  nib::cuda::reset_peak_memory();
  void* p = nib::cuda::allocate(bytes);
  nib::cuda::MemoryStats held = nib::cuda::memory_stats();
  CHECK(held.in_use == before.in_use + rounded);
  CHECK(held.peak >= held.in_use);

  nib::cuda::release(p);
  nib::cuda::MemoryStats released = nib::cuda::memory_stats();
  CHECK(released.in_use == before.in_use);
  CHECK(released.cached == rounded);
  CHECK(released.peak == held.in_use);  // the peak remembers

  nib::cuda::empty_cache();
  CHECK(nib::cuda::memory_stats().cached == 0);
  nib::cuda::reset_peak_memory();
  CHECK(nib::cuda::memory_stats().peak == nib::cuda::memory_stats().in_use);
}

TEST_CASE("allocator: an impossible request throws a clear out-of-memory error, and memory still works after") {
  const size_t huge = size_t{1} << 50;  // 1 PiB
  std::string message;
  try {
    nib::cuda::allocate(huge);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("CUDA out of memory: tried to allocate") != std::string::npos);
  CHECK(message.find("in use") != std::string::npos);
  CHECK(message.find("device total") != std::string::npos);

  std::vector<float> host = random_vector(33, 2);  // the failed cudaMalloc left no error behind
  DeviceBuffer<float> d(host);
  CHECK(d.to_host() == host);
}

TEST_CASE("allocator rejects a pointer it did not hand out") {
  int on_the_stack = 0;
  CHECK_THROWS_AS(nib::cuda::release(&on_the_stack), Error);
}

// ---- Element-wise ------------------------------------------------------------

TEST_CASE("cuda kernel binary ops and sum_to match the reference with and without broadcasting") {
  struct Case {
    std::vector<int64_t> a, b;
  };
  std::vector<Case> cases = {{{1}, {1}},          {{7}, {7}},         {{1000003}, {1000003}}, {{7, 33}, {33}},
                             {{7, 1}, {1, 33}},   {{4096, 3}, {3}},   {{3}, {4096, 3}},       {{2, 3, 5, 7}, {3, 1, 1}},
                             {{1, 1, 33}, {5, 7, 1}}, {{20000, 1}, {20000, 3}},
                             // sum_to over two broadcast dimensions that do not merge (a kept one
                             // between them), with one block per output: walked with carries.
                             {{1, 5, 1}, {40, 5, 30}}};
  for (const Case& c : cases) {
    BroadcastShape s = broadcast(c.a, c.b);
    const int64_t n = s.numel(), na = product(c.a), nb = product(c.b);
    CAPTURE(n);
    std::vector<float> a = random_vector(static_cast<size_t>(na), 3);
    std::vector<float> b = random_positive(static_cast<size_t>(nb), 4);  // positive: safe to divide by
    DeviceBuffer<float> da(a), db(b), dy(static_cast<size_t>(n));
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
      std::vector<float> want(static_cast<size_t>(n));
      reference::binary(op, s, a.data(), b.data(), want.data());
      kernels::cuda::binary(op, s, da.get(), db.get(), dy.get());
      NIB_CHECK_CLOSE(dy.to_host(), want, 1e-6);
    }

    // sum_to: the gradient for a (out and a_stride are all it reads).
    std::vector<float> g = random_vector(static_cast<size_t>(n), 5);
    std::vector<float> want(static_cast<size_t>(na));
    reference::sum_to(s, g.data(), want.data());
    DeviceBuffer<float> dg(g), dga(static_cast<size_t>(na));
    kernels::cuda::sum_to(s, dg.get(), dga.get());
    NIB_CHECK_CLOSE(dga.to_host(), want, 1e-4);  // the reference sums in float, in order
  }
}

TEST_CASE("cuda kernel fill, axpy and affine match the reference") {
  for (int64_t n : sizes()) {
    CAPTURE(n);
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 6), y = random_vector(un, 7);
    DeviceBuffer<float> dx(x), dy(y);

    std::vector<float> want = y;
    reference::axpy(n, -0.75f, x.data(), want.data());
    kernels::cuda::axpy(n, -0.75f, dx.get(), dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), want, 1e-6);

    reference::affine(n, 1.5f, -0.25f, x.data(), want.data());
    kernels::cuda::affine(n, 1.5f, -0.25f, dx.get(), dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), want, 1e-6);

    kernels::cuda::fill(n, 3.25f, dy.get());
    CHECK(dy.to_host() == std::vector<float>(un, 3.25f));
  }
}

// ---- Activations ---------------------------------------------------------------

TEST_CASE("cuda kernel activations, their backward, bias_activation and bias_backward match the reference") {
  const Activation all[] = {Activation::Identity, Activation::ReLU, Activation::ReLU6, Activation::Sigmoid,
                            Activation::Tanh};
  for (int64_t n : sizes()) {
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 8, 4.0f), gy = random_vector(un, 9);
    DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
    for (Activation act : all) {
      CAPTURE(n);
      CAPTURE(static_cast<int>(act));
      std::vector<float> y(un), gx(un);
      reference::activation_forward(act, n, x.data(), y.data());
      kernels::cuda::activation_forward(act, n, dx.get(), dy.get());
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);

      reference::activation_backward(act, n, y.data(), gy.data(), gx.data());
      kernels::cuda::activation_backward(act, n, dy.get(), dgy.get(), dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }

  struct Layout {
    int64_t outer, channels, inner;
  };
  // inner == 1 (a linear layer's bias) has its own bias_backward kernel:
  // fewer columns than a block takes, a partial last block of columns, many blocks.
  for (Layout l : {Layout{1, 1, 1}, Layout{2, 3, 5}, Layout{1, 7, 1}, Layout{33, 64, 49}, Layout{128, 10, 1},
                   Layout{1000, 70, 1}, Layout{3, 4100, 1}, Layout{2, 3, 100000}}) {
    CAPTURE(l.outer);
    CAPTURE(l.channels);
    CAPTURE(l.inner);
    const size_t n = static_cast<size_t>(l.outer * l.channels * l.inner);
    std::vector<float> y0 = random_vector(n, 10, 3.0f), bias = random_vector(static_cast<size_t>(l.channels), 11);
    DeviceBuffer<float> dbias(bias);
    for (Activation act : all) {
      for (bool with_bias : {true, false}) {
        std::vector<float> want = y0;
        reference::bias_activation(act, l.outer, l.channels, l.inner, with_bias ? bias.data() : nullptr, want.data());
        DeviceBuffer<float> dy(y0);
        kernels::cuda::bias_activation(act, l.outer, l.channels, l.inner, with_bias ? dbias.get() : nullptr, dy.get());
        NIB_CHECK_CLOSE(dy.to_host(), want, 1e-6);
      }
    }
    std::vector<float> want(static_cast<size_t>(l.channels));
    reference::bias_backward(l.outer, l.channels, l.inner, y0.data(), want.data());
    DeviceBuffer<float> dg(y0), dgb(static_cast<size_t>(l.channels));
    kernels::cuda::bias_backward(l.outer, l.channels, l.inner, dg.get(), dgb.get());
    NIB_CHECK_CLOSE(dgb.to_host(), want, 1e-5);
  }
}

TEST_CASE("cuda kernel leaky_relu and elu, forward and backward, match the reference") {
  for (int64_t n : sizes()) {
    const size_t un = static_cast<size_t>(n);
    std::vector<float> x = random_vector(un, 12, 3.0f), gy = random_vector(un, 13);
    DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
    for (ParametricActivation act : {ParametricActivation::LeakyReLU, ParametricActivation::ELU}) {
      CAPTURE(n);
      CAPTURE(static_cast<int>(act));
      std::vector<float> y(un), gx(un);
      reference::parametric_activation_forward(act, 0.3f, n, x.data(), y.data());
      kernels::cuda::parametric_activation_forward(act, 0.3f, n, dx.get(), dy.get());
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      reference::parametric_activation_backward(act, 0.3f, n, x.data(), gy.data(), gx.data());
      kernels::cuda::parametric_activation_backward(act, 0.3f, n, dx.get(), dgy.get(), dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
}

TEST_CASE("cuda kernel transpose2d (NCHW <-> NHWC) matches the reference") {
  struct Case {
    int64_t batches, rows, cols;
  };
  for (Case c : {Case{1, 1, 1}, Case{2, 3, 5}, Case{1, 33, 7}, Case{4, 64, 49}, Case{2, 3, 100003}}) {
    CAPTURE(c.rows);
    CAPTURE(c.cols);
    const size_t n = static_cast<size_t>(c.batches * c.rows * c.cols);
    std::vector<float> x = random_vector(n, 14), want(n);
    reference::transpose2d(c.batches, c.rows, c.cols, x.data(), want.data());
    DeviceBuffer<float> dx(x), dy(n);
    kernels::cuda::transpose2d(c.batches, c.rows, c.cols, dx.get(), dy.get());
    CHECK(dy.to_host() == want);
  }
}

// ---- Reductions ----------------------------------------------------------------

TEST_CASE("cuda kernel sum and expand match the reference along every kind of axis") {
  struct Layout {
    int64_t outer, reduce, inner;
  };
  for (Layout l : {Layout{1, 1, 1}, Layout{1, 1000003, 1}, Layout{7, 33, 1}, Layout{3, 1, 5}, Layout{2, 100, 4096},
                   Layout{100, 7, 100}, Layout{4, 0, 3}, Layout{1, 5000, 3}}) {
    CAPTURE(l.outer);
    CAPTURE(l.reduce);
    CAPTURE(l.inner);
    const size_t n = static_cast<size_t>(l.outer * l.reduce * l.inner), m = static_cast<size_t>(l.outer * l.inner);
    const float scale = l.reduce > 0 ? 1.0f / static_cast<float>(l.reduce) : 1.0f;
    std::vector<float> x = random_vector(n, 12), want(m);
    reference::sum(l.outer, l.reduce, l.inner, scale, x.data(), want.data());
    DeviceBuffer<float> dx(x), dy(m);
    kernels::cuda::sum(l.outer, l.reduce, l.inner, scale, dx.get(), dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), want, 1e-5);

    std::vector<float> gy = random_vector(m, 13), gx(n);
    reference::expand(l.outer, l.reduce, l.inner, scale, gy.data(), gx.data());
    DeviceBuffer<float> dgy(gy), dgx(n);
    kernels::cuda::expand(l.outer, l.reduce, l.inner, scale, dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

// ---- Pooling -------------------------------------------------------------------

TEST_CASE("cuda kernel max pooling matches the reference, winners included") {
  for (const Pool2dShape& s : pool_shapes()) {
    CAPTURE(s.H);
    CAPTURE(s.W);
    CAPTURE(s.kernel_h);
    CAPTURE(s.stride_h);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = random_vector(nx, 14), y(ny), gy = random_vector(ny, 15), gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    DeviceBuffer<int32_t> dargmax(ny);
    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
    CHECK(dy.to_host() == y);  // a max is exact
    CHECK(dargmax.to_host() == argmax);
    kernels::cuda::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);

    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), nullptr);  // evaluation: no winners kept
    CHECK(dy.to_host() == y);
  }
}

TEST_CASE("cuda kernel max pooling lets a NaN win as the reference does: the last NaN of the window") {
  for (const Pool2dShape& s : pool_shapes()) {
    const std::string shape = nib::testing::pool_shape_text(s);
    CAPTURE(shape);
    const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W), ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
    std::vector<float> x = nib::testing::with_nan_pairs(random_vector(nx, 14)), y(ny), gy = random_vector(ny, 15),
                       gx(nx);
    std::vector<int32_t> argmax(ny);
    reference::max_pool_forward(s, x.data(), y.data(), argmax.data());
    reference::max_pool_backward(s, gy.data(), argmax.data(), gx.data());

    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    DeviceBuffer<int32_t> dargmax(std::vector<int32_t>(ny, -2));
    kernels::cuda::max_pool_forward(s, dx.get(), dy.get(), dargmax.get());
    CHECK(nib::testing::same_or_both_nan(dy.to_host(), y));
    CHECK(dargmax.to_host() == argmax);  // the gradient goes to the NaN the reference picked
    kernels::cuda::max_pool_backward(s, dgy.get(), dargmax.get(), dgx.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

TEST_CASE("cuda kernel average pooling matches the reference with and without counting the padding") {
  for (const Pool2dShape& s : pool_shapes()) {
    for (bool include_pad : {true, false}) {
      CAPTURE(s.H);
      CAPTURE(s.W);
      CAPTURE(s.kernel_h);
      CAPTURE(include_pad);
      const size_t nx = static_cast<size_t>(s.N * s.C * s.H * s.W),
                   ny = static_cast<size_t>(s.N * s.C * s.P() * s.Q());
      std::vector<float> x = random_vector(nx, 16), y(ny), gy = random_vector(ny, 17), gx(nx);
      reference::avg_pool_forward(s, x.data(), y.data(), include_pad);
      reference::avg_pool_backward(s, gy.data(), gx.data(), include_pad);
      DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
      kernels::cuda::avg_pool_forward(s, dx.get(), dy.get(), include_pad);
      kernels::cuda::avg_pool_backward(s, dgy.get(), dgx.get(), include_pad);
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
}

TEST_CASE("cuda kernel global average pooling matches the reference") {
  for (auto [planes, HW] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 49}, {33, 1}, {2048, 49}, {3, 100003}}) {
    CAPTURE(planes);
    CAPTURE(HW);
    const size_t nx = static_cast<size_t>(planes * HW), ny = static_cast<size_t>(planes);
    std::vector<float> x = random_vector(nx, 18), y(ny), gy = random_vector(ny, 19), gx(nx);
    reference::global_avg_pool_forward(planes, HW, x.data(), y.data());
    reference::global_avg_pool_backward(planes, HW, gy.data(), gx.data());
    DeviceBuffer<float> dx(x), dy(ny), dgy(gy), dgx(nx);
    kernels::cuda::global_avg_pool_forward(planes, HW, dx.get(), dy.get());
    kernels::cuda::global_avg_pool_backward(planes, HW, dgy.get(), dgx.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
  }
}

// ---- Batch normalisation ---------------------------------------------------------

TEST_CASE("cuda kernel batchnorm (training and evaluation, forward and backward) matches the reference") {
  const float eps = 1e-5f, momentum = 0.1f;
  // The last two are split into several blocks per channel, whose ranges
  // cross from one sample's plane into the next.
  for (BatchNormShape s : {BatchNormShape{1, 1, 2}, BatchNormShape{1, 3, 7}, BatchNormShape{2, 1, 1},
                           BatchNormShape{2, 16, 49}, BatchNormShape{8, 3, 1}, BatchNormShape{64, 33, 1},
                           BatchNormShape{3, 5, 5000}, BatchNormShape{256, 3, 10}}) {
    CAPTURE(s.N);
    CAPTURE(s.C);
    CAPTURE(s.HW);
    // (At least two values per channel: the unbiased running variance divides by N*HW - 1.)
    const size_t n = static_cast<size_t>(s.N * s.C * s.HW), c = static_cast<size_t>(s.C);
    // A mean far from zero checks that the variance does not cancel.
    std::vector<float> x = random_vector(n, 20, 2.0f);
    for (auto& v : x) v += 5.0f;
    std::vector<float> gamma = random_positive(c, 21), beta = random_vector(c, 22), gy = random_vector(n, 23);
    std::vector<float> running_mean = random_vector(c, 24), running_var = random_positive(c, 25);
    DeviceBuffer<float> dx(x), dgamma(gamma), dbeta(beta), dgy(gy);

    // Training forward.
    std::vector<float> y(n), mean(c), invstd(c), rm = running_mean, rv = running_var;
    reference::batchnorm_forward_train(s, x.data(), gamma.data(), beta.data(), eps, momentum, rm.data(), rv.data(),
                                       y.data(), mean.data(), invstd.data());
    DeviceBuffer<float> dy(n), dmean(c), dinvstd(c), drm(running_mean), drv(running_var);
    kernels::cuda::batchnorm_forward_train(s, dx.get(), dgamma.get(), dbeta.get(), eps, momentum, drm.get(), drv.get(),
                                    dy.get(), dmean.get(), dinvstd.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-4);
    NIB_CHECK_CLOSE(dmean.to_host(), mean, 1e-5);
    NIB_CHECK_CLOSE(dinvstd.to_host(), invstd, 1e-4);
    NIB_CHECK_CLOSE(drm.to_host(), rm, 1e-5);
    NIB_CHECK_CLOSE(drv.to_host(), rv, 1e-4);

    // Training backward, from the saved statistics (the reference's, so only the backward is compared).
    std::vector<float> gx(n), ggamma(c), gbeta(c);
    reference::batchnorm_backward_train(s, x.data(), gy.data(), gamma.data(), mean.data(), invstd.data(), gx.data(),
                                        ggamma.data(), gbeta.data());
    DeviceBuffer<float> dsaved_mean(mean), dsaved_invstd(invstd), dgx(n), dggamma(c), dgbeta(c);
    kernels::cuda::batchnorm_backward_train(s, dx.get(), dgy.get(), dgamma.get(), dsaved_mean.get(), dsaved_invstd.get(),
                                     dgx.get(), dggamma.get(), dgbeta.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);
    NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
    NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
    // Only the input gradient (a frozen BN layer still passes gradients through).
    kernels::cuda::fill(static_cast<int64_t>(n), 0.0f, dgx.get());
    kernels::cuda::batchnorm_backward_train(s, dx.get(), dgy.get(), dgamma.get(), dsaved_mean.get(), dsaved_invstd.get(),
                                     dgx.get(), nullptr, nullptr);
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-4);

    // Evaluation forward and backward.
    DeviceBuffer<float> drm0(running_mean), drv0(running_var);
    reference::batchnorm_forward_eval(s, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(),
                                      eps, y.data());
    kernels::cuda::batchnorm_forward_eval(s, dx.get(), dgamma.get(), dbeta.get(), drm0.get(), drv0.get(), eps, dy.get());
    NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);

    reference::batchnorm_backward_eval(s, x.data(), gy.data(), gamma.data(), running_mean.data(), running_var.data(),
                                       eps, gx.data(), ggamma.data(), gbeta.data());
    kernels::cuda::batchnorm_backward_eval(s, dx.get(), dgy.get(), dgamma.get(), drm0.get(), drv0.get(), eps, dgx.get(),
                                    dggamma.get(), dgbeta.get());
    NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
    NIB_CHECK_CLOSE(dggamma.to_host(), ggamma, 1e-4);
    NIB_CHECK_CLOSE(dgbeta.to_host(), gbeta, 1e-5);
  }
}

// ---- Softmax and cross-entropy ---------------------------------------------------

TEST_CASE("cuda kernel softmax and log-softmax match the reference, forward and backward") {
  for (int64_t rows : {1, 5, 300}) {
    for (int64_t cols : {1, 10, 33, 1000, 1025}) {
      for (bool log : {false, true}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(log);
        const size_t n = static_cast<size_t>(rows * cols);
        std::vector<float> x = random_vector(n, 26, 5.0f), y(n), gy = random_vector(n, 27), gx(n);
        reference::softmax_forward(rows, cols, x.data(), y.data(), log);
        reference::softmax_backward(rows, cols, y.data(), gy.data(), gx.data(), log);
        DeviceBuffer<float> dx(x), dy(n), dgy(gy), dgx(n);
        kernels::cuda::softmax_forward(rows, cols, dx.get(), dy.get(), log);
        NIB_CHECK_CLOSE(dy.to_host(), y, 1e-5);
        DeviceBuffer<float> dy_ref(y);  // the backward from the same y on both sides
        kernels::cuda::softmax_backward(rows, cols, dy_ref.get(), dgy.get(), dgx.get(), log);
        NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-5);
      }
    }
  }
}

TEST_CASE("cuda kernel cross-entropy matches the reference, with label smoothing") {
  for (int64_t rows : {1, 7, 300}) {
    for (int64_t cols : {1, 10, 1000}) {
      for (float smoothing : {0.0f, 0.1f}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(smoothing);
        const size_t n = static_cast<size_t>(rows * cols), r = static_cast<size_t>(rows);
        std::vector<float> logits = random_vector(n, 28, 10.0f);  // large logits: tiny probabilities
        std::vector<int32_t> labels(r);
        for (size_t i = 0; i < r; ++i) labels[i] = static_cast<int32_t>((i * 7 + 3) % static_cast<size_t>(cols));
        std::vector<float> loss(r), probs(n), gx(n);
        const std::vector<float> grad_loss = {0.7f};
        reference::cross_entropy_forward(rows, cols, logits.data(), labels.data(), smoothing, loss.data(),
                                         probs.data());
        reference::cross_entropy_backward(rows, cols, probs.data(), labels.data(), smoothing, grad_loss.data(),
                                          gx.data());

        DeviceBuffer<float> dlogits(logits), dloss(r), dprobs(n), dgrad_loss(grad_loss), dgx(n);
        DeviceBuffer<int32_t> dlabels(labels);
        kernels::cuda::cross_entropy_forward(rows, cols, dlogits.get(), dlabels.get(), smoothing, dloss.get(), dprobs.get());
        // log p = (x - max) - log_sum rounds at the scale of log p. On the
        // CPU harness: probabilities within 2.4e-7, gradients 1.5e-8; via a
        // rounded log_z = max + log_sum (the old kernel) 1.9e-6 and 5.4e-7.
        // The GPU's expf and logf may add a few ulps: hence 1e-6 and 5e-7.
        NIB_CHECK_CLOSE(dloss.to_host(), loss, 1e-6);
        NIB_CHECK_CLOSE(dprobs.to_host(), probs, 1e-6);
        for (float l : dloss.to_host()) CHECK(std::isfinite(l));
        kernels::cuda::cross_entropy_backward(rows, cols, dprobs.get(), dlabels.get(), smoothing, dgrad_loss.get(),
                                       dgx.get());
        NIB_CHECK_CLOSE(dgx.to_host(), gx, 5e-7);
      }
    }
  }
}

TEST_CASE("cuda kernel cross-entropy checks the labels on the GPU; the error comes at the next wait for it") {
  const int64_t rows = 5, cols = 10;
  std::vector<float> logits = random_vector(static_cast<size_t>(rows * cols), 29);
  DeviceBuffer<float> dlogits(logits), dloss(static_cast<size_t>(rows)), dprobs(static_cast<size_t>(rows * cols));
  // Two bad labels: the one at the lowest position is reported, whatever order the GPU ran the rows in.
  DeviceBuffer<int32_t> bad(std::vector<int32_t>{0, 12, 3, -1, 9}), good(std::vector<int32_t>{0, 1, 3, 2, 9});

  CHECK_NOTHROW(kernels::cuda::cross_entropy_forward(rows, cols, dlogits.get(), bad.get(), 0.0f, dloss.get(), dprobs.get()));
  CHECK_THROWS_WITH_AS(nib::cuda::synchronize(), doctest::Contains("label 12 at position 1 is outside [0, 10)"), Error);
  const std::vector<float> loss = dloss.to_host();  // the error was taken: this wait raises nothing
  CHECK(std::isnan(loss[1]));  // a bad label's row has no loss...
  CHECK(std::isnan(loss[3]));
  CHECK(std::isfinite(loss[0]));  // ...and the others are unaffected
  CHECK(std::isfinite(loss[4]));

  kernels::cuda::cross_entropy_forward(rows, cols, dlogits.get(), good.get(), 0.0f, dloss.get(), dprobs.get());
  CHECK_NOTHROW(nib::cuda::synchronize());  // the report was cleared
}

TEST_CASE("cross_entropy on CUDA raises the CPU's message for a bad label at loss.item(), without copying labels") {
  Tensor logits = Tensor::from_vector(random_vector(12, 30), {3, 4}, kCUDA);
  Tensor labels = Tensor::empty({3}, kCPU, DType::I32);
  const int32_t values[] = {0, 4, 1};
  std::copy(values, values + 3, labels.data_as<int32_t>());
  Tensor loss;
  CHECK_NOTHROW(loss = ops::cross_entropy(logits, labels.to(kCUDA)));
  CHECK_THROWS_WITH_AS(loss.item(), doctest::Contains("label 4 at position 1 is outside [0, 4)"), Error);
}

// ---- Dropout -------------------------------------------------------------------

TEST_CASE("cuda kernel dropout drops exactly the elements the CPU reference drops") {
  for (int64_t n : sizes()) {
    for (float p : {0.0f, 0.1f, 0.5f, 0.9f}) {
      CAPTURE(n);
      CAPTURE(p);
      const size_t un = static_cast<size_t>(n);
      const uint64_t seed = 0x5eed + static_cast<uint64_t>(n);
      std::vector<float> x = random_vector(un, 29), y(un), gy = random_vector(un, 30), gx(un);
      std::vector<uint8_t> mask(un);
      reference::dropout_forward(n, x.data(), p, seed, mask.data(), y.data());
      reference::dropout_backward(n, gy.data(), mask.data(), p, gx.data());

      DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
      DeviceBuffer<uint8_t> dmask(un);
      kernels::cuda::dropout_forward(n, dx.get(), p, seed, dmask.get(), dy.get());
      CHECK(dmask.to_host() == mask);
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      kernels::cuda::dropout_backward(n, dgy.get(), dmask.get(), p, dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
  // The mask is the counter hash, not some other random stream: check a few by hand.
  const int64_t n = 1000;
  std::vector<float> ones(n, 1.0f);
  DeviceBuffer<float> dx(ones), dy(n);
  DeviceBuffer<uint8_t> dmask(n);
  kernels::cuda::dropout_forward(n, dx.get(), 0.3f, 42, dmask.get(), dy.get());
  std::vector<uint8_t> mask = dmask.to_host();
  int kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    CHECK(mask[i] == (counter_uniform(42, static_cast<uint64_t>(i)) >= 0.3f ? 1 : 0));
    kept += mask[i];
  }
  CHECK(kept > 600);  // about 700 of 1000 kept
  CHECK(kept < 800);
}

// ---- Copies and padding -----------------------------------------------------------

TEST_CASE("cuda kernel copy2d matches the reference for strided rows") {
  struct Case {
    int64_t rows, cols, src_stride, dst_stride;
  };
  for (Case c : {Case{1, 1, 1, 1}, Case{1, 7, 3, 2}, Case{7, 33, 33, 33}, Case{7, 33, 40, 35}, Case{33, 5, 10, 7},
                 Case{1000, 1000, 1003, 1001}}) {
    CAPTURE(c.rows);
    CAPTURE(c.cols);
    const size_t ns = static_cast<size_t>((c.rows - 1) * c.src_stride + c.cols);
    const size_t nd = static_cast<size_t>((c.rows - 1) * c.dst_stride + c.cols);
    std::vector<float> src = random_vector(ns, 31), dst = random_vector(nd, 32);
    DeviceBuffer<float> dsrc(src), ddst(dst);  // dst starts with the same contents on both sides
    reference::copy2d(c.rows, c.cols, src.data(), c.src_stride, dst.data(), c.dst_stride);
    kernels::cuda::copy2d(c.rows, c.cols, dsrc.get(), c.src_stride, ddst.get(), c.dst_stride);
    CHECK(ddst.to_host() == dst);  // untouched gaps stay as they were
  }
}

TEST_CASE("cuda kernel pad2d matches the reference for padding, cropping and both") {
  struct Case {
    int64_t planes, H, W, top, bottom, left, right;
  };
  for (Case c : {Case{1, 1, 1, 1, 1, 1, 1}, Case{3, 7, 9, 0, 1, 0, 1}, Case{2, 5, 5, -1, -2, 0, -1},
                 Case{4, 8, 6, 2, -3, -1, 3}, Case{64, 33, 33, 1, 1, 1, 1}}) {
    CAPTURE(c.H);
    CAPTURE(c.top);
    const int64_t Ho = c.H + c.top + c.bottom, Wo = c.W + c.left + c.right;
    const size_t nx = static_cast<size_t>(c.planes * c.H * c.W), ny = static_cast<size_t>(c.planes * Ho * Wo);
    std::vector<float> x = random_vector(nx, 33), y(ny);
    reference::pad2d(c.planes, c.H, c.W, c.top, c.bottom, c.left, c.right, x.data(), y.data());
    DeviceBuffer<float> dx(x), dy(ny);
    kernels::cuda::pad2d(c.planes, c.H, c.W, c.top, c.bottom, c.left, c.right, dx.get(), dy.get());
    CHECK(dy.to_host() == y);

    // The backward of a pad is the pad with every amount negated: it gives x back.
    DeviceBuffer<float> dback(nx);
    kernels::cuda::pad2d(c.planes, Ho, Wo, -c.top, -c.bottom, -c.left, -c.right, dy.get(), dback.get());
    if (c.top >= 0 && c.bottom >= 0 && c.left >= 0 && c.right >= 0) CHECK(dback.to_host() == x);
  }
}

// ---- Optimizers --------------------------------------------------------------------

namespace {

// Parameters, gradients and two state buffers for tensors of the given sizes,
// on the host and (identical) on the device.
struct OptimFixture {
  std::vector<std::vector<float>> param, grad, state1, state2;
  std::vector<std::unique_ptr<DeviceBuffer<float>>> dparam, dgrad, dstate1, dstate2;

  explicit OptimFixture(const std::vector<int64_t>& sizes) {
    uint64_t seed = 100;
    for (int64_t n : sizes) {
      const size_t un = static_cast<size_t>(n);
      param.push_back(random_vector(un, seed++));
      grad.push_back(random_vector(un, seed++));
      state1.push_back(random_vector(un, seed++, 0.1f));
      state2.push_back(random_positive(un, seed++, 0.0f, 0.01f));
      dparam.push_back(std::make_unique<DeviceBuffer<float>>(param.back()));
      dgrad.push_back(std::make_unique<DeviceBuffer<float>>(grad.back()));
      dstate1.push_back(std::make_unique<DeviceBuffer<float>>(state1.back()));
      dstate2.push_back(std::make_unique<DeviceBuffer<float>>(state2.back()));
    }
  }
  std::vector<ParamSlot> host_slots() {
    std::vector<ParamSlot> slots;
    for (size_t i = 0; i < param.size(); ++i)
      slots.push_back({param[i].data(), grad[i].data(), state1[i].data(), state2[i].data(),
                       static_cast<int64_t>(param[i].size())});
    return slots;
  }
  std::vector<ParamSlot> device_slots() {
    std::vector<ParamSlot> slots;
    for (size_t i = 0; i < param.size(); ++i)
      slots.push_back({dparam[i]->get(), dgrad[i]->get(), dstate1[i]->get(), dstate2[i]->get(),
                       static_cast<int64_t>(param[i].size())});
    return slots;
  }
  // Bit for bit: the CPU and the kernel share their per-element arithmetic
  // (kernels/optim_update.h), fused multiply-adds included.
  void check_equal() {
    for (size_t i = 0; i < param.size(); ++i) {
      CAPTURE(i);
      CHECK(dparam[i]->to_host() == param[i]);
      CHECK(dstate1[i]->to_host() == state1[i]);
      CHECK(dstate2[i]->to_host() == state2[i]);
    }
  }
};

// Many small tensors (more than one launch's worth) and a few odd large ones.
std::vector<int64_t> optim_sizes() {
  std::vector<int64_t> sizes = {1, 7, 33, 1000003, 0};
  for (int i = 0; i < 70; ++i) sizes.push_back(1 + (i * 37) % 300);
  return sizes;
}

}  // namespace

TEST_CASE("cuda kernel SGD step matches the reference over many tensors, for three steps") {
  for (float momentum : {0.0f, 0.9f}) {
    for (bool nesterov : {false, true}) {
      if (nesterov && momentum == 0.0f) continue;
      CAPTURE(momentum);
      CAPTURE(nesterov);
      OptimFixture f(optim_sizes());
      for (int step = 0; step < 3; ++step) {
        SgdParams o;
        o.lr = 0.05f, o.momentum = momentum, o.dampening = nesterov ? 0.0f : 0.1f, o.weight_decay = 1e-2f;
        o.nesterov = nesterov;
        o.first_step = step == 0;
        reference::sgd_step(f.host_slots(), o);
        kernels::cuda::sgd_step(f.device_slots(), o);
      }
      f.check_equal();
    }
  }
}

TEST_CASE("cuda kernel Adam and AdamW steps match the reference over many tensors, for three steps") {
  for (bool decoupled : {false, true}) {
    CAPTURE(decoupled);
    OptimFixture f(optim_sizes());
    for (int64_t step = 1; step <= 3; ++step) {
      AdamParams o;
      o.lr = 1e-2f, o.weight_decay = 0.05f, o.decoupled = decoupled, o.step = step;
      reference::adam_step(f.host_slots(), o);
      kernels::cuda::adam_step(f.device_slots(), o);
    }
    f.check_equal();
  }
}
