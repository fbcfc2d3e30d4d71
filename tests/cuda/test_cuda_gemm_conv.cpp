// CUDA GEMM and convolution against the CPU reference: every GEMM rung and
// cuBLAS, nib's implicit-GEMM/depthwise convolution and cuDNN, on odd sizes
// (tile edges, unaligned leading dimensions, transposes, beta != 0, asymmetric
// padding, stride > kernel, dilation, groups, depthwise).
//
// Outputs start as NaN: a kernel that skips an element, or reads C when
// beta == 0, fails the comparison.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "device/cuda/runtime.h"
#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "tests/cuda/cuda_helpers.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::random_vector;
using nib::testing::relative_error;

namespace {

// A copy of a host vector on the GPU.
class DeviceVector {
 public:
  explicit DeviceVector(const std::vector<float>& host) : size_(host.size()) {
    ptr_ = static_cast<float*>(cuda::allocate(bytes()));
    // Only what the host holds: an empty vector's data() may be null.
    cuda::copy(ptr_, host.data(), sizeof(float) * size_, cuda::CopyKind::HostToDevice);
  }
  ~DeviceVector() { cuda::release(ptr_); }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  float* get() const { return ptr_; }
  std::vector<float> to_host() const {
    std::vector<float> host(size_);
    cuda::copy(host.data(), ptr_, sizeof(float) * size_, cuda::CopyKind::DeviceToHost);
    return host;
  }

 private:
  size_t bytes() const { return sizeof(float) * std::max<size_t>(size_, 1); }
  size_t size_;
  float* ptr_;
};

std::vector<float> nans(size_t n) { return std::vector<float>(n, NAN); }

// ---- GEMM ---------------------------------------------------------------------

struct GemmImpl {
  const char* name;
  kernels::GemmFn* fn;
};

const std::vector<GemmImpl>& gemm_impls() {
  static const std::vector<GemmImpl> impls = {{"kernels::cuda::gemm_naive", kernels::cuda::gemm_naive},
                                              {"kernels::cuda::gemm_tiled", kernels::cuda::gemm_tiled},
                                              {"kernels::cuda::gemm_regblock", kernels::cuda::gemm_regblock},
                                              {"kernels::cuda::gemm", kernels::cuda::gemm},
#ifdef NIB_CUBLAS
                                              {"cublas::gemm", kernels::cublas::gemm},
#endif
  };
  return impls;
}

// Runs one GEMM on the GPU with `impl` and on the CPU with the reference,
// with row padding ld_extra on every operand (0 keeps rows tight; 3 makes
// them unaligned for float4; 4 keeps them aligned but not tight).
void check_gemm(const GemmImpl& impl, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta,
                int64_t ld_extra) {
  // Stored shapes: A is [M,K], or [K,M] when transposed; B is [K,N], or [N,K].
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
  const int64_t lda = a_cols + ld_extra, ldb = b_cols + ld_extra, ldc = N + ld_extra;
  std::vector<float> A = random_vector(size_t(a_rows * lda), 11);
  std::vector<float> B = random_vector(size_t(b_rows * ldb), 12);
  // beta == 0 must not read C: start it as NaN then.
  std::vector<float> C = beta == 0.0f ? nans(size_t(M * ldc)) : random_vector(size_t(M * ldc), 13);

  std::vector<float> expected = C;
  kernels::reference::gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, expected.data(), ldc);

  DeviceVector dA(A), dB(B), dC(C);
  impl.fn(ta, tb, M, N, K, alpha, dA.get(), lda, dB.get(), ldb, beta, dC.get(), ldc);
  std::vector<float> got = dC.to_host();

  // Compare the M x N window only: the padding columns of C are never written.
  std::vector<float> got_window, expected_window;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      got_window.push_back(got[i * ldc + j]);
      expected_window.push_back(expected[i * ldc + j]);
    }
  INFO(impl.name << " trans_a=" << ta << " trans_b=" << tb << " M=" << M << " N=" << N << " K=" << K
                 << " alpha=" << alpha << " beta=" << beta << " ld_extra=" << ld_extra);
  NIB_CHECK_CLOSE(got_window, expected_window, 1e-4);
}

}  // namespace

TEST_CASE("cuda gemm: every rung and cuBLAS match the reference on odd sizes and all transposes") {
  struct Size {
    int64_t M, N, K;
  };
  // 1x1x1; sizes off every tile multiple; a K that is not a multiple of the
  // k-step; sizes crossing the 64 and 128 tiles; an exact multiple of both.
  const std::vector<Size> sizes = {{1, 1, 1}, {17, 33, 65}, {65, 17, 33}, {3, 130, 9}, {129, 67, 130}, {128, 64, 32}};
  for (const GemmImpl& impl : gemm_impls())
    for (const Size& s : sizes)
      for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        check_gemm(impl, ta, tb, s.M, s.N, s.K, 1.0f, 0.0f, 0);
        check_gemm(impl, ta, tb, s.M, s.N, s.K, 1.5f, 0.5f, 3);
        check_gemm(impl, ta, tb, s.M, s.N, s.K, -0.75f, 0.0f, 4);
      }
}

TEST_CASE("cuda gemm: K == 0 scales C by beta (or zeroes it)") {
  for (const GemmImpl& impl : gemm_impls()) {
    check_gemm(impl, false, false, 5, 7, 0, 1.0f, 0.5f, 0);
    check_gemm(impl, true, true, 5, 7, 0, 1.0f, 0.0f, 1);
  }
}

// ---- Convolution -----------------------------------------------------------------

namespace {

struct ConvImpl {
  const char* name;
  kernels::Conv2dForwardFn* forward;
  kernels::Conv2dBackwardDataFn* backward_data;
  kernels::Conv2dBackwardWeightFn* backward_weight;
};

std::vector<ConvImpl> conv_impls() {
  std::vector<ConvImpl> impls = {{"cuda", kernels::cuda::conv2d_forward, kernels::cuda::conv2d_backward_data,
                                  kernels::cuda::conv2d_backward_weight}};
#ifdef NIB_CUDNN
  impls.push_back({"cudnn", kernels::cudnn::conv2d_forward, kernels::cudnn::conv2d_backward_data,
                   kernels::cudnn::conv2d_backward_weight});
#endif
  return impls;
}

struct NamedShape {
  std::string name;
  kernels::Conv2dProblem shape;
};

// A convolution being put together: sizes and options, turned into a
// Conv2dProblem (which checks it) where a kernel needs one.
struct ConvSpec {
  int64_t N, C, H, W, K, R, S;
  Conv2dOptions options;
  operator kernels::Conv2dProblem() const {
    return kernels::Conv2dProblem::make({N, C, H, W}, {K, C / options.groups, R, S}, options);
  }
};

ConvSpec make(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S) {
  return {N, C, H, W, K, R, S, {}};
}

std::vector<NamedShape> conv_shapes() {
  std::vector<NamedShape> shapes;
  {
    auto s = make(2, 3, 7, 9, 5, 3, 3);
    s.options.padding = Padding2d::same(1);
    shapes.push_back({"3x3 pad 1", s});
  }
  {
    auto s = make(2, 3, 8, 7, 4, 3, 3);  // TensorFlow 'SAME' with stride 2: more padding after
    s.options.stride_h = s.options.stride_w = 2;
    s.options.padding = {0, 1, 2, 0};
    shapes.push_back({"asymmetric padding, stride 2", s});
  }
  {
    auto s = make(1, 2, 11, 10, 3, 2, 2);  // some inputs are in no window
    s.options.stride_h = 3, s.options.stride_w = 4;
    shapes.push_back({"stride > kernel", s});
  }
  {
    auto s = make(2, 3, 9, 10, 4, 3, 2);
    s.options.dilation_h = 2, s.options.dilation_w = 3;
    s.options.padding = {2, 2, 1, 3};
    shapes.push_back({"dilation, uneven padding", s});
  }
  {
    auto s = make(2, 4, 6, 5, 6, 3, 3);
    s.options.groups = 2;
    s.options.padding = Padding2d::same(1);
    shapes.push_back({"groups = 2", s});
  }
  {
    auto s = make(3, 7, 5, 6, 4, 1, 1);
    shapes.push_back({"1x1", s});
  }
  {
    auto s = make(2, 5, 9, 8, 5, 3, 3);
    s.options.groups = 5;
    s.options.stride_h = s.options.stride_w = 2;
    s.options.padding = {0, 1, 1, 1};
    shapes.push_back({"depthwise, stride 2, asymmetric padding", s});
  }
  {
    auto s = make(1, 6, 10, 10, 6, 3, 3);
    s.options.groups = 6;
    s.options.dilation_h = s.options.dilation_w = 2;
    s.options.padding = Padding2d::same(2);
    shapes.push_back({"depthwise, dilation 2", s});
  }
  {
    // Crosses the 64-wide tiles in every GEMM dimension and has a long
    // weight-gradient reduction (N*P*Q = 4096), so split-K engages.
    auto s = make(4, 17, 32, 32, 70, 3, 3);
    s.options.padding = Padding2d::same(1);
    shapes.push_back({"large (tiles, split-K)", s});
  }
  return shapes;
}

void check_conv(const ConvImpl& impl, const NamedShape& named) {
  const kernels::Conv2dProblem& s = named.shape;
  const size_t xn = s.N * s.C * s.H * s.W, yn = s.N * s.K * s.P * s.Q, wn = s.K * s.C_per_group * s.R * s.S;
  const std::vector<float> x = random_vector(xn, 21), w = random_vector(wn, 22), bias = random_vector(s.K, 23),
                           gy = random_vector(yn, 24);
  DeviceVector dx(x), dw(w), dbias(bias), dgy(gy);
  INFO(impl.name << ", " << named.name << ": N=" << s.N << " C=" << s.C << " H=" << s.H << " W=" << s.W
                 << " K=" << s.K << " R=" << s.R << " S=" << s.S << " groups=" << s.groups);

  {  // forward with bias
    std::vector<float> expected(yn);
    kernels::reference::conv2d_forward(s, x.data(), w.data(), bias.data(), expected.data());
    DeviceVector dy(nans(yn));
    impl.forward(s, dx.get(), dw.get(), dbias.get(), dy.get());
    INFO("forward");
    NIB_CHECK_CLOSE(dy.to_host(), expected, 1e-4);
  }
  {  // backward data
    std::vector<float> expected(xn);
    kernels::reference::conv2d_backward_data(s, gy.data(), w.data(), expected.data());
    DeviceVector dgx(nans(xn));
    impl.backward_data(s, dgy.get(), dw.get(), dgx.get());
    INFO("backward data");
    NIB_CHECK_CLOSE(dgx.to_host(), expected, 1e-4);
  }
  {  // backward weight and bias
    std::vector<float> expected_w(wn), expected_b(s.K);
    kernels::reference::conv2d_backward_weight(s, x.data(), gy.data(), expected_w.data(), expected_b.data());
    DeviceVector dgw(nans(wn)), dgb(nans(s.K));
    impl.backward_weight(s, dx.get(), dgy.get(), dgw.get(), dgb.get());
    INFO("backward weight");
    NIB_CHECK_CLOSE(dgw.to_host(), expected_w, 1e-4);
    INFO("backward bias");
    NIB_CHECK_CLOSE(dgb.to_host(), expected_b, 1e-4);
  }
}

}  // namespace

TEST_CASE("cuda conv2d: nib's kernel and cuDNN match the reference (padding, stride, dilation, groups, depthwise)") {
  for (const ConvImpl& impl : conv_impls())
    for (const NamedShape& shape : conv_shapes()) check_conv(impl, shape);
}

TEST_CASE("cuda conv2d: the weight gradient without a bias gradient") {
  ConvSpec spec = make(2, 3, 6, 6, 4, 3, 3);
  spec.options.padding = Padding2d::same(1);
  const kernels::Conv2dProblem s = spec;
  const size_t xn = s.N * s.C * s.H * s.W, yn = s.N * s.K * s.P * s.Q, wn = s.K * s.C * s.R * s.S;
  const std::vector<float> x = random_vector(xn, 31), gy = random_vector(yn, 32);
  std::vector<float> expected_w(wn);
  kernels::reference::conv2d_backward_weight(s, x.data(), gy.data(), expected_w.data(), nullptr);
  for (const ConvImpl& impl : conv_impls()) {
    DeviceVector dx(x), dgy(gy), dgw(nans(wn));
    impl.backward_weight(s, dx.get(), dgy.get(), dgw.get(), nullptr);
    INFO(impl.name);
    NIB_CHECK_CLOSE(dgw.to_host(), expected_w, 1e-4);
  }
}

#ifdef NIB_CUDNN
// cuDNN's TF32 mode (conv2d_cudnn.cpp): tensor-op math may round FP32 inputs
// to TF32 (8 exponent bits, FP32's range), never convert them to FP16
// (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION), whose largest value is 65504:
// inputs of size 1e5 would become infinities there. And the algorithm
// cache is keyed by the TF32 setting: FP32 before, TF32 while allowed, FP32
// again after (a cache that ignored the setting would keep the tensor-op
// algorithm and miss the FP32 tolerance on the last run).
TEST_CASE("cuda conv2d: cuDNN with TF32 allowed stays in FP32's range, and TF32 off again means FP32") {
  ConvSpec spec = make(4, 16, 12, 12, 32, 3, 3);
  spec.options.padding = Padding2d::same(1);
  const kernels::Conv2dProblem s = spec;
  const size_t xn = s.N * s.C * s.H * s.W, yn = s.N * s.K * s.P * s.Q, wn = s.K * s.C * s.R * s.S;
  const std::vector<float> x = random_vector(xn, 33, 1e5f), w = random_vector(wn, 34);
  std::vector<float> expected(yn);
  kernels::reference::conv2d_forward(s, x.data(), w.data(), nullptr, expected.data());
  DeviceVector dx(x), dw(w);
  for (bool tf32 : {false, true, false}) {
    nib::testing::ScopedAllowTf32 scope(tf32);
    CAPTURE(tf32);
    DeviceVector dy(nans(yn));
    kernels::cudnn::conv2d_forward(s, dx.get(), dw.get(), nullptr, dy.get());
    const std::vector<float> y = dy.to_host();
    CHECK(std::all_of(y.begin(), y.end(), [](float v) { return std::isfinite(v); }));
    NIB_CHECK_CLOSE(y, expected, tf32 ? 5e-3 : 1e-4);
  }
}
#endif
