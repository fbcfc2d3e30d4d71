// Element-wise kernels on the CPU. These loops are simple enough that the
// compiler vectorises them; OpenMP splits the large ones over the cores.
#include "kernels/elementwise.h"

namespace nib::kernels::reference {

namespace {

constexpr int64_t kParallelThreshold = 1 << 15;  // below this, threads cost more than they save

// Calls visit(i, ia, ib) for every output index i with the matching input
// indices, walking the output like an odometer so no division is needed.
template <class Visit>
void for_each_broadcast(const BroadcastShape& s, Visit visit) {
  int64_t n = s.numel();
  if (n == 0) return;
  int64_t counter[kMaxDims] = {};
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    visit(i, ia, ib);
    for (int d = s.ndim - 1; d >= 0; --d) {
      ia += s.a_stride[d];
      ib += s.b_stride[d];
      if (++counter[d] < s.out[d]) break;
      ia -= s.a_stride[d] * s.out[d];
      ib -= s.b_stride[d] * s.out[d];
      counter[d] = 0;
    }
  }
}

inline float apply(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return 0.0f;
}

template <BinaryOp Op>
void same_shape(int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = apply(Op, a[i], b[i]);
}

bool contiguous(const BroadcastShape& s, const int64_t* stride) {
  int64_t expected = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    if (s.out[d] != 1 && stride[d] != expected) return false;
    expected *= s.out[d];
  }
  return true;
}

}  // namespace

void binary(BinaryOp op, const BroadcastShape& s, const float* a, const float* b, float* y) {
  if (contiguous(s, s.a_stride) && contiguous(s, s.b_stride)) {  // the common case: no broadcasting
    int64_t n = s.numel();
    switch (op) {
      case BinaryOp::Add: return same_shape<BinaryOp::Add>(n, a, b, y);
      case BinaryOp::Sub: return same_shape<BinaryOp::Sub>(n, a, b, y);
      case BinaryOp::Mul: return same_shape<BinaryOp::Mul>(n, a, b, y);
      case BinaryOp::Div: return same_shape<BinaryOp::Div>(n, a, b, y);
    }
  }
  for_each_broadcast(s, [&](int64_t i, int64_t ia, int64_t ib) { y[i] = apply(op, a[ia], b[ib]); });
}

void sum_to(const BroadcastShape& s, const float* g, float* ga) {
  int64_t na = 1;
  for (int d = 0; d < s.ndim; ++d)
    if (s.a_stride[d] != 0) na *= s.out[d];
  for (int64_t i = 0; i < na; ++i) ga[i] = 0.0f;
  // Accumulate in order, so the result is the same run to run.
  for_each_broadcast(s, [&](int64_t i, int64_t ia, int64_t) { ga[ia] += g[i]; });
}

void fill(int64_t n, float value, float* y) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

void axpy(int64_t n, float alpha, const float* x, float* y) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void affine(int64_t n, float alpha, float beta, const float* x, float* y) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i] + beta;
}

}  // namespace nib::kernels::reference
