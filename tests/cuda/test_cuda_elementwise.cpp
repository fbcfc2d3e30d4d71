// nib's element-wise CUDA kernels (binary ops with broadcasting, sum_to, fill,
// axpy, affine) against the CPU reference.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and nib's CUDA kernels on device buffers holding the same data,
// then compares (helpers: tests/cuda/cuda_helpers.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/elementwise.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::broadcast;
using nib::testing::DeviceBuffer;
using nib::testing::product;
using nib::testing::random_positive;
using nib::testing::random_vector;
using nib::testing::edge_sizes;

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
  for (int64_t n : edge_sizes()) {
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
