// matmul and linear (fully connected) layers on top of GEMM.
#include "kernels/gemm.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<GemmFn> gemm_impls("gemm", {
    {"reference", DeviceType::CPU, reference::gemm},
    {"fast", DeviceType::CPU, fast::gemm},
#ifdef NIB_CUDA
    {"gemm_naive", DeviceType::CUDA, kernels::cuda::gemm_naive},
    {"gemm_tiled", DeviceType::CUDA, kernels::cuda::gemm_tiled},
    {"gemm_regblock", DeviceType::CUDA, kernels::cuda::gemm_regblock},
    {"cuda", DeviceType::CUDA, kernels::cuda::gemm},
#endif
#ifdef NIB_CUBLAS
    {"cublas", DeviceType::CUDA, cublas::gemm},
#endif
});

// C = op(A) · op(B) for row-major 2-D tensors, C allocated here.
Tensor gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b) {
  int64_t M = trans_a ? a.size(1) : a.size(0);
  int64_t K = trans_a ? a.size(0) : a.size(1);
  int64_t N = trans_b ? b.size(0) : b.size(1);
  Tensor c = Tensor::empty({M, N}, a.device());
  gemm_impls.pick(a.device(), "M=", M, " N=", N, " K=", K)(trans_a, trans_b, M, N, K, 1.0f, a.data(), a.size(1), b.data(), b.size(1), 0.0f,
                              c.data(), N);
  return c;
}

void check_matrix(const Tensor& t, const char* op, const char* what) {
  check_defined(t, op, what);
  check_f32(t, op);
  NIB_CHECK(t.dim() == 2, op, ": ", what, " must be 2-D, got ", t.shape());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matrix(a, "matmul", "left operand");
  check_matrix(b, "matmul", "right operand");
  check_same_device(a, b, "matmul");
  NIB_CHECK(a.size(1) == b.size(0), "matmul: inner sizes differ: ", a.shape(), " x ", b.shape());
  Tensor y = gemm(a, false, b, false);
  if (autograd::needs_graph({&a, &b})) {
    autograd::record(y, "matmul", {a, b}, [a = a.detach(), b = b.detach()](const Tensor& gy, const std::vector<bool>& needs) {
      Tensor ga = needs[0] ? gemm(gy, false, b, true) : Tensor();  // gy · bᵀ
      Tensor gb = needs[1] ? gemm(a, true, gy, false) : Tensor();  // aᵀ · gy
      return std::vector<Tensor>{ga, gb};
    });
  }
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Activation act) {
  check_matrix(x, "linear", "input");
  check_matrix(w, "linear", "weight");
  check_same_device(x, w, "linear");
  NIB_CHECK(x.size(1) == w.size(1), "linear: input has ", x.size(1), " features but the weight ", w.shape(),
            " expects ", w.size(1));
  if (b.defined()) {
    check_same_device(x, b, "linear");
    NIB_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "linear: bias ", b.shape(), " does not match weight ",
              w.shape());
  }
  Tensor y = gemm(x, false, w, true);  // [N, in] · [out, in]ᵀ
  if (b.defined() || act != Activation::Identity) bias_activation_(y, b, act);

  if (autograd::needs_graph({&x, &w, &b})) {
    Tensor saved_y = act == Activation::Identity ? Tensor() : y.detach();
    autograd::record(y, "linear", {x, w, b},
                     [x = x.detach(), w = w.detach(), saved_y, act](const Tensor& gy, const std::vector<bool>& needs) {
                       Tensor gz = act == Activation::Identity ? gy : activation_backward(act, saved_y, gy);
                       Tensor gx = needs[0] ? gemm(gz, false, w, false) : Tensor();  // [N,out]·[out,in]
                       Tensor gw = needs[1] ? gemm(gz, true, x, false) : Tensor();   // [N,out]ᵀ·[N,in]
                       Tensor gb = needs[2] ? bias_backward(gz) : Tensor();
                       return std::vector<Tensor>{gx, gw, gb};
                     });
  }
  return y;
}

}  // namespace nib::ops
