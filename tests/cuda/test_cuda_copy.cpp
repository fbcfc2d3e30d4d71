// nib's copy CUDA kernels (transpose2d, copy2d, pad2d) against the CPU reference.
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

#include "kernels/copy.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;

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
