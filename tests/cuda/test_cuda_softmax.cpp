// nib's softmax, log-softmax and cross-entropy CUDA kernels against the CPU
// reference, and the device-side label check.
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

#include "kernels/softmax.h"
#include "ops/ops.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;

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
