// Finite-difference gradient checks on the GPU, through the autograd ops.
//
// Each op (ops/ops.h) runs on CUDA tensors, its backward runs on the GPU,
// and the gradients must match central differences of the same op, also
// evaluated on the GPU (check_gradients_cuda, tests/cuda/cuda_helpers.h).
// Every check runs twice: with nib's kernels ("cuda") and with NVIDIA's
// ("cudnn,cublas": cuBLAS for gemm; cuDNN for conv2d, pooling,
// batchnorm and softmax when nib is built with it), selected for the whole
// check, backward included, with UseEverywhere.
//
// The parity tests (test_cuda_<family>.cpp, test_cuda_gemm_conv.cpp,
// test_cuda_cudnn_ops.cpp) compare each CUDA kernel with its CPU twin.
// These check what parity cannot: that on the device each op's backward is
// the derivative of its forward as the op wires them (arguments in the
// right order, the saved tensors, broadcast reductions, gradients reaching
// the leaves), whichever implementation runs.
//
// Precision, as in the CPU gradient checks (tests/helpers.h): float32 data,
// eps 1e-2, tolerance 2e-2 relative to the gradient's scale (3e-2 for
// batchnorm), the loss accumulated in double on the host, TF32 off. Inputs
// keep clear of the kinks where finite differences break: max-pooling
// inputs are all 0.05 apart (distinct_tensor), ReLU inputs at least 0.025
// from 0 and 6 (kink_free_tensor).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using nib::testing::check_gradients_cuda;
using nib::testing::distinct_tensor;
using nib::testing::random_tensor;
using nib::testing::ScopedAllowTf32;
using nib::testing::UseEverywhere;

namespace {

const std::vector<const char*> kImpls = nib::testing::gpu_impls();

// The implementation `family` runs when `impl` is asked for: cuBLAS for
// gemm, cuDNN for conv2d, pooling, batch norm and softmax, where they were
// built; "cuda" elsewhere. Said without the registry, so that a registry
// that quietly ignores a library is caught.
std::string expected_impl(const std::string& family, const std::string& impl) {
  if (impl == "cuda") return impl;
#ifdef NIB_CUBLAS
  if (family == "gemm") return "cublas";
#endif
#ifdef NIB_CUDNN
  if (family == "conv2d" || family == "pool" || family == "batchnorm" || family == "softmax") return "cudnn";
#endif
  return "cuda";
}

// Runs `check` with every op family forced to `impl` on the GPU and TF32
// off, then checks that `family` really ran what was asked for.
template <class Check>
void with_kernels(const char* impl, const char* family, const Check& check) {
  INFO("kernels: " << std::string(impl));
  ScopedAllowTf32 fp32(false);
  UseEverywhere use(impl);
  check();
  CHECK(kernels::last_chosen(family, DeviceType::CUDA) == expected_impl(family, impl));
}

// Random values in [lo, hi) moved onto the odd multiples of 0.025: every
// value is at least 0.025 from each multiple of 0.05, 0 and 6 included, so a
// finite-difference step of 0.01 never crosses the kink of ReLU or ReLU6.
Tensor kink_free_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Generator gen(seed);
  Tensor t = Tensor::uniform(shape, gen, lo, hi);
  float* v = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = 0.05f * std::floor(v[i] / 0.05f) + 0.025f;
  return t;
}

Tensor labels_of(const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, kCPU, DType::I32);
  std::copy(values.begin(), values.end(), t.data_as<int32_t>());
  return t;
}

ops::Conv2dOptions conv_options(int64_t stride_h, int64_t stride_w, ops::Padding2d padding, int64_t groups = 1,
                                int64_t dilation_h = 1) {
  ops::Conv2dOptions o;
  o.stride_h = stride_h, o.stride_w = stride_w, o.padding = padding, o.groups = groups, o.dilation_h = dilation_h;
  return o;
}

ops::Pool2dOptions pool_options(int64_t kh, int64_t kw, int64_t sh, int64_t sw, ops::Padding2d padding = {}) {
  ops::Pool2dOptions o;
  o.kernel_h = kh, o.kernel_w = kw, o.stride_h = sh, o.stride_w = sw, o.padding = padding;
  return o;
}

}  // namespace

// ---- Convolution and linear -------------------------------------------------------

namespace {

struct ConvCase {
  const char* what;
  Shape x, w;
  ops::Conv2dOptions options;
  bool bias = true;
};

std::vector<ConvCase> conv_cases() {
  return {
      {"regular 3x3, padding 1", {2, 3, 7, 5}, {4, 3, 3, 3}, conv_options(1, 1, ops::Padding2d::same(1))},
      {"1x1 without bias", {3, 5, 5, 7}, {3, 5, 1, 1}, conv_options(1, 1, {}), false},
      {"stride 2, padding 1", {3, 3, 7, 5}, {4, 3, 3, 3}, conv_options(2, 2, ops::Padding2d::same(1))},
      {"stride 2x3, asymmetric (TF 'SAME') padding", {2, 3, 7, 6}, {3, 3, 3, 2}, conv_options(2, 3, {0, 1, 1, 0})},
      {"grouped (2 groups)", {2, 4, 7, 5}, {6, 2, 3, 3}, conv_options(1, 1, ops::Padding2d::same(1), 2)},
      {"grouped and dilated", {2, 4, 6, 5}, {2, 2, 2, 3}, conv_options(1, 1, {2, 2, 1, 1}, 2, 2)},
      {"depthwise 3x3, stride 2", {2, 5, 7, 5}, {5, 1, 3, 3}, conv_options(2, 2, ops::Padding2d::same(1), 5)},
      {"depthwise 5x3, asymmetric padding", {3, 3, 7, 5}, {3, 1, 5, 3}, conv_options(1, 1, {2, 1, 1, 1}, 3)},
  };
}

}  // namespace

TEST_CASE("cuda gradcheck: conv2d (regular, strided and padded, grouped, depthwise) with nib's and the libraries' kernels") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "conv2d", [&] {
      for (const ConvCase& c : conv_cases()) {
        INFO(c.what);
        std::vector<Tensor> inputs = {random_tensor(c.x, 11).set_requires_grad(true),
                                      random_tensor(c.w, 12, 0.5f).set_requires_grad(true)};
        if (c.bias) inputs.push_back(random_tensor({c.w[0]}, 13).set_requires_grad(true));
        const ops::Conv2dOptions options = c.options;
        check_gradients_cuda(
            [options](const std::vector<Tensor>& in) {
              return ops::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), options);
            },
            inputs);
      }
    });
  }
}

TEST_CASE("cuda gradcheck: linear with and without bias, with nib's and the libraries' kernels") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "gemm", [] {
      // Odd sizes: 5 rows, 7 inputs, 3 outputs.
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], in[2]); },
                           {random_tensor({5, 7}, 21).set_requires_grad(true),
                            random_tensor({3, 7}, 22, 0.5f).set_requires_grad(true),
                            random_tensor({3}, 23).set_requires_grad(true)});
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], Tensor()); },
                           {random_tensor({1, 33}, 24).set_requires_grad(true),
                            random_tensor({10, 33}, 25, 0.5f).set_requires_grad(true)});
    });
  }
}

// ---- Pooling -------------------------------------------------------------------

namespace {

struct PoolCase {
  const char* what;
  Shape x;
  ops::Pool2dOptions options;
};

// Padding must stay smaller than the kernel (ops::max_pool2d checks it).
std::vector<PoolCase> pool_cases() {
  return {
      {"3x3 stride 2 padding 1, 7x5 planes", {3, 5, 7, 5}, pool_options(3, 3, 2, 2, ops::Padding2d::same(1))},
      {"stride larger than the kernel", {2, 3, 9, 8}, pool_options(2, 2, 3, 3)},
      {"asymmetric (TF 'SAME') padding", {3, 2, 6, 5}, pool_options(3, 2, 2, 2, {0, 1, 1, 0})},
      {"non-square kernel and stride", {2, 3, 7, 9}, pool_options(2, 3, 1, 2, {1, 1, 0, 2})},
  };
}

}  // namespace

TEST_CASE("cuda gradcheck: max, average and global average pooling with nib's and the libraries' kernels") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "pool", [] {
      for (const PoolCase& c : pool_cases()) {
        INFO(c.what);
        const ops::Pool2dOptions options = c.options;
        check_gradients_cuda([options](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], options); },
                             {distinct_tensor(c.x, 31).set_requires_grad(true)});
        for (bool include_pad : {true, false}) {
          CAPTURE(include_pad);
          check_gradients_cuda(
              [options, include_pad](const std::vector<Tensor>& in) {
                return ops::avg_pool2d(in[0], options, include_pad);
              },
              {random_tensor(c.x, 32).set_requires_grad(true)});
        }
      }
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::global_avg_pool(in[0]); },
                           {random_tensor({3, 5, 7, 5}, 33).set_requires_grad(true)});
    });
  }
}

// ---- Batch normalisation ---------------------------------------------------------

TEST_CASE("cuda gradcheck: batchnorm in training mode with nib's and the libraries' kernels") {
  const float momentum = 0.1f, eps = 1e-5f;
  for (const char* impl : kImpls) {
    with_kernels(impl, "batchnorm", [&] {
      for (Shape s : {Shape{3, 5, 7, 5}, Shape{6, 5}, Shape{1, 3, 1, 3}}) {
        CAPTURE(s.str());
        const int64_t C = s[1];
        // Running statistics live on the device and are updated by every
        // evaluation; the training-mode output does not depend on them.
        Tensor rm = random_tensor({C}, 40, 0.1f).to(kCUDA);
        Tensor rv = ops::affine(random_tensor({C}, 41, 0.1f), 1.0f, 1.0f).to(kCUDA);
        auto f = [&](const std::vector<Tensor>& in) {
          return ops::batch_norm(in[0], in[1], in[2], rm, rv, /*training=*/true, momentum, eps);
        };
        check_gradients_cuda(f,
                             {random_tensor(s, 42).set_requires_grad(true),
                              ops::affine(random_tensor({C}, 43, 0.3f), 1.0f, 1.0f).set_requires_grad(true),
                              random_tensor({C}, 44).set_requires_grad(true)},
                             {1e-2, 3e-2});
      }
    });
  }
}

// ---- Activations ----------------------------------------------------------------

TEST_CASE("cuda gradcheck: relu and relu6 with nib's and the libraries' kernels") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "activation", [] {
      // Both sides of each kink: ReLU around 0, ReLU6 around 0 and 6.
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::relu(in[0]); },
                           {kink_free_tensor({3, 5, 7}, 50, -2.0f, 2.0f).set_requires_grad(true)});
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::relu6(in[0]); },
                           {kink_free_tensor({3, 5, 7}, 51, -2.0f, 8.0f).set_requires_grad(true)});
    });
  }
}

// ---- Softmax and cross-entropy ----------------------------------------------------

TEST_CASE("cuda gradcheck: softmax, log-softmax and cross-entropy with nib's and the libraries' kernels") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "softmax", [] {
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::softmax(in[0]); },
                           {random_tensor({3, 7}, 60).set_requires_grad(true)});
      check_gradients_cuda([](const std::vector<Tensor>& in) { return ops::log_softmax(in[0]); },
                           {random_tensor({2, 3, 5}, 61).set_requires_grad(true)});
      const Tensor labels = labels_of({2, 0, 6, 6, 3}).to(kCUDA);
      for (float smoothing : {0.0f, 0.1f}) {
        CAPTURE(smoothing);
        check_gradients_cuda(
            [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels, smoothing); },
            {random_tensor({5, 7}, 62).set_requires_grad(true)});
        // A scaled upstream gradient: the loss feeds a product (grad_loss != 1 on the device).
        check_gradients_cuda(
            [&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels, smoothing) * 3.0f; },
            {random_tensor({5, 7}, 63).set_requires_grad(true)});
      }
    });
  }
}

// ---- Element-wise with broadcasting ------------------------------------------------

TEST_CASE("cuda gradcheck: broadcast add reduces the gradient onto each operand") {
  for (const char* impl : kImpls) {
    with_kernels(impl, "elementwise", [] {
      auto add = [](const std::vector<Tensor>& in) { return ops::add(in[0], in[1]); };
      // A per-channel bias; then both operands broadcast ([3,1,5] + [4,1] -> [3,4,5]).
      check_gradients_cuda(add, {random_tensor({2, 3, 4, 5}, 70).set_requires_grad(true),
                                 random_tensor({3, 1, 1}, 71).set_requires_grad(true)});
      check_gradients_cuda(add, {random_tensor({3, 1, 5}, 72).set_requires_grad(true),
                                 random_tensor({4, 1}, 73).set_requires_grad(true)});
    });
  }
}
