// cuda::conv2d_*: convolution as implicit GEMM (implicit_gemm.cuh), with
// depthwise convolutions sent to direct kernels (conv2d_depthwise.cu).
//
// The three passes are three GEMMs per group g (Cg = C/groups, Kg = K/groups):
//
//   forward          y[k, npq]  = sum over crs   of  w[k, crs] * X[crs, npq]
//   backward data    gx[c, nhw] = sum over krs   of  w[k, c, rs] * GY[krs, nhw]
//   backward weight  gw[k, crs] = sum over npq   of  gy[k, npq] * X[crs, npq]
//
// where X[crs, npq] = x[n, g*Cg + c, p*sh - pad_top + r*dh, q*sw - pad_left + s*dw]
// (0 outside the input) is the im2col matrix, never built: each Problem below
// computes its elements on the fly. GY[krs, nhw] is the matching view of gy
// for the input pixel (h, w): the output (p, q) that saw it through kernel
// tap (r, s), when h + pad_top - r*dh is a non-negative multiple of the
// stride (and likewise for w), else 0.
//
// Columns are output (or input) pixels, so the threads of a warp read and
// write consecutive q (or w): coalesced in NCHW.
//
// Each Problem gives the kernel "walks" (implicit_gemm.cuh): a thread's
// column is decoded into pixel coordinates once per block and its reduction
// index is then stepped through digit by digit, instead of 4-6 divisions
// per loaded element.
//
// The weight gradient has a small result (Kg x Cg*R*S) and a long reduction
// (N*P*Q), so it splits the reduction across blocks (split-K): each split
// writes a partial result into a workspace and a second kernel sums them in
// a fixed order, which keeps the result deterministic (atomics would not).
#include <algorithm>
#include <climits>

#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/conv2d.h"
#include "kernels/cuda/block_sum.cuh"
#include "kernels/cuda/conv2d_depthwise.h"
#include "kernels/cuda/implicit_gemm.cuh"
#include "util/error.h"

namespace nib::kernels::cuda_conv {

namespace {

// The input pixel an im2col element reads: x[n, g*Cg + c, p*sh - pt + r*dh,
// q*sw - pl + s*dw], or 0 in the padding. x_group is x + g*Cg*H*W.
__device__ __forceinline__ float im2col_at(const Conv2dProblem& s, const float* x_group, int n, int c, int p, int q, int r,
                                           int sx) {
  const int h = p * int(s.stride_h) - int(s.pad_top) + r * int(s.dilation_h);
  const int w = q * int(s.stride_w) - int(s.pad_left) + sx * int(s.dilation_w);
  if (h < 0 || h >= int(s.H) || w < 0 || w >= int(s.W)) return 0.0f;
  return x_group[((n * int(s.C) + c) * int(s.H) + h) * int(s.W) + w];
}

// forward: y[k, npq] = sum over crs of w[k, crs] * X[crs, npq].
struct ForwardProblem {
  Conv2dProblem s;
  const float* x;
  const float* w;
  const float* bias;
  float* y;
  int M, cols, depth, splits, split_depth;  // M = Kg, cols = N*P*Q, depth = Cg*R*S

  // w is [K, Cg*R*S] row-major: row g*Kg + m; no decoding at all.
  struct AWalk {
    const float* w_group;
    int depth, k, step;
    __device__ float at(int m) const { return w_group[m * depth + k]; }
    __device__ void advance() { k += step; }
  };
  __device__ AWalk a_walk(int g, int k, int step) const { return {w + g * int(s.K_per_group) * depth, depth, k, step}; }

  // X[crs, npq]: the output pixel (n, p, q) decoded once, (c, r, s) walked.
  struct BWalk {
    const Conv2dProblem& s;
    const float* x_group;
    int n, p, q;
    Digits<3> crs;  // (c, r, s)
    __device__ float value() const {
      return im2col_at(s, x_group, n, crs.digit[0], p, q, crs.digit[1], crs.digit[2]);
    }
    __device__ void advance() { crs.advance(); }
  };
  __device__ BWalk b_walk(int g, int col, int k, int step) const {
    const int PQ = int(s.P) * int(s.Q), n = col / PQ, pq = col - n * PQ, p = pq / int(s.Q);
    return {s, x + g * int(s.C_per_group) * int(s.H) * int(s.W), n, p, pq - p * int(s.Q), Digits<3>(k, step, int(s.R), int(s.S))};
  }

  __device__ void store(int g, int, int m, int col, float v) const {
    const int PQ = int(s.P) * int(s.Q);
    const int n = col / PQ, pq = col - n * PQ;
    const int k = g * int(s.K_per_group) + m;
    y[(n * int(s.K) + k) * PQ + pq] = v + (bias ? bias[k] : 0.0f);
  }
};

// backward data: gx[c, nhw] = sum over krs of w[k, c, rs] * GY[krs, nhw].
struct BackwardDataProblem {
  Conv2dProblem s;
  const float* gy;
  const float* w;
  float* gx;
  int M, cols, depth, splits, split_depth;  // M = Cg, cols = N*H*W, depth = Kg*R*S

  // w[g*Kg + k, c, r, s] for reduction index k*RS + rs: (k, rs) walked.
  struct AWalk {
    const float* w_group;
    int Cg, RS;
    Digits<2> krs;  // (k, rs)
    __device__ float at(int c) const { return w_group[(krs.digit[0] * Cg + c) * RS + krs.digit[1]]; }
    __device__ void advance() { krs.advance(); }
  };
  __device__ AWalk a_walk(int g, int k, int step) const {
    const int RS = int(s.R) * int(s.S);
    return {w + g * int(s.K_per_group) * int(s.C_per_group) * RS, int(s.C_per_group), RS, Digits<2>(k, step, RS)};
  }

  // GY[krs, nhw]: gy[n, g*Kg + k, p, q] for the output pixel that input
  // (h, w) feeds through tap (r, s), when h + pt - r*dh is a non-negative
  // multiple of the stride (likewise for w), else 0. The input pixel
  // (n, h, w) is decoded once, (k, r, s) walked.
  struct BWalk {
    const Conv2dProblem& s;
    const float* gy_group;
    int n, h, w;
    Digits<3> krs;  // (k, r, s)
    __device__ float value() const {
      int p = h + int(s.pad_top) - krs.digit[1] * int(s.dilation_h);  // = p * sh when output row p saw input row h
      int q = w + int(s.pad_left) - krs.digit[2] * int(s.dilation_w);
      if (p < 0 || q < 0) return 0.0f;
      if (int(s.stride_h) != 1) {
        if (p % int(s.stride_h) != 0) return 0.0f;
        p /= int(s.stride_h);
      }
      if (int(s.stride_w) != 1) {
        if (q % int(s.stride_w) != 0) return 0.0f;
        q /= int(s.stride_w);
      }
      if (p >= int(s.P) || q >= int(s.Q)) return 0.0f;
      return gy_group[((n * int(s.K) + krs.digit[0]) * int(s.P) + p) * int(s.Q) + q];
    }
    __device__ void advance() { krs.advance(); }
  };
  __device__ BWalk b_walk(int g, int col, int k, int step) const {
    const int HW = int(s.H) * int(s.W), n = col / HW, hw = col - n * HW, h = hw / int(s.W);
    return {s, gy + g * int(s.K_per_group) * int(s.P) * int(s.Q), n, h, hw - h * int(s.W), Digits<3>(k, step, int(s.R), int(s.S))};
  }

  __device__ void store(int g, int, int c, int nhw, float v) const {
    const int HW = int(s.H) * int(s.W);
    const int n = nhw / HW, hw = nhw - n * HW;
    gx[(n * int(s.C) + g * int(s.C_per_group) + c) * HW + hw] = v;
  }
};

// backward weight: gw[k, crs] = sum over npq of gy[k, npq] * X[crs, npq].
struct BackwardWeightProblem {
  Conv2dProblem s;
  const float* x;
  const float* gy;
  float* out;  // [splits, K, Cg*R*S]: gw itself when splits == 1
  int M, cols, depth, splits, split_depth;  // M = Kg, cols = Cg*R*S, depth = N*P*Q

  // gy[n, g*Kg + k, pq] for reduction index n*PQ + pq: (n, pq) walked.
  struct AWalk {
    const float* gy_group;
    int K, PQ;
    Digits<2> npq;  // (n, pq)
    __device__ float at(int k) const { return gy_group[(npq.digit[0] * K + k) * PQ + npq.digit[1]]; }
    __device__ void advance() { npq.advance(); }
  };
  __device__ AWalk a_walk(int g, int k, int step) const {
    const int PQ = int(s.P) * int(s.Q);
    return {gy + g * int(s.K_per_group) * PQ, int(s.K), PQ, Digits<2>(k, step, PQ)};
  }

  // X[crs, npq]: the tap (c, r, s) decoded once, the output pixel (n, p, q) walked.
  struct BWalk {
    const Conv2dProblem& s;
    const float* x_group;
    int c, r, sx;
    Digits<3> npq;  // (n, p, q)
    __device__ float value() const {
      return im2col_at(s, x_group, npq.digit[0], c, npq.digit[1], npq.digit[2], r, sx);
    }
    __device__ void advance() { npq.advance(); }
  };
  __device__ BWalk b_walk(int g, int col, int k, int step) const {
    const int RS = int(s.R) * int(s.S), c = col / RS, rs = col - c * RS, r = rs / int(s.S);
    return {s, x + g * int(s.C_per_group) * int(s.H) * int(s.W), c, r, rs - r * int(s.S), Digits<3>(k, step, int(s.P), int(s.Q))};
  }

  __device__ void store(int g, int split, int k, int crs, float v) const {
    out[(split * int(s.K) + g * int(s.K_per_group) + k) * cols + crs] = v;
  }
};

// gw[i] = sum over splits of partial[split, i], in split order.
__global__ void sum_splits_kernel(const float* __restrict__ partial, int splits, int total, float* __restrict__ gw) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  float acc = 0.0f;
  for (int split = 0; split < splits; ++split) acc += partial[split * total + i];
  gw[i] = acc;
}

// gbias[k] = sum over n, p, q of gy[n, k, p, q]: one block per channel k.
__global__ void bias_grad_kernel(const float* __restrict__ gy, int N, int K, int PQ, float* __restrict__ gbias) {
  const int k = blockIdx.x;
  float acc = 0.0f;
  for (int i = threadIdx.x; i < N * PQ; i += blockDim.x) {
    const int n = i / PQ, pq = i - n * PQ;
    acc += gy[(n * K + k) * PQ + pq];
  }
  acc = cuda_reduce::block_sum(acc);
  if (threadIdx.x == 0) gbias[k] = acc;
}

template <class Problem>
void launch(const Problem& prob, int groups, const char* op) {
  const unsigned col_tiles = static_cast<unsigned>((prob.cols + kBN - 1) / kBN);
  const unsigned row_tiles = static_cast<unsigned>((prob.M + kBM - 1) / kBM);
  const long long z = static_cast<long long>(groups) * prob.splits;
  NIB_CHECK(row_tiles <= 65535 && z <= 65535, op, ": too many channels or groups for one launch");
  dim3 grid(col_tiles, row_tiles, static_cast<unsigned>(z));
  cuda_detail::launch(implicit_gemm_kernel<Problem>, grid, kThreads, prob);
}

// How many chunks to cut a reduction of `depth` into so that about four
// blocks per multiprocessor exist, each chunk still at least 8 steps long.
int choose_splits(long long blocks_without_split, int depth) {
  const long long target = 4LL * nib::cuda::properties().multiProcessorCount;
  const long long wanted = (target + blocks_without_split - 1) / blocks_without_split;
  const long long most = std::max(1, depth / (8 * kBK));
  return static_cast<int>(std::clamp<long long>(wanted, 1, std::min<long long>(most, 256)));
}

}  // namespace

}  // namespace nib::kernels::cuda_conv

namespace nib::kernels::cuda {

namespace {
// The kernels index with int: a problem with 2^31 or more elements in x, w
// or y is refused rather than overflowed.
void require_int32(const Conv2dProblem& s, const char* op) {
  NIB_CHECK(s.fits_int32(), op, ": tensors of 2^31 elements or more are not supported");
}
}  // namespace

void conv2d_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  require_int32(s, "cuda::conv2d_forward");
  if (s.N == 0) return;
  if (s.is_depthwise()) return cuda_conv::depthwise_forward(s, x, w, bias, y);
  cuda_conv::ForwardProblem prob{s, x, w, bias, y, int(s.K_per_group), int(s.N) * int(s.P) * int(s.Q), int(s.C_per_group) * int(s.R) * int(s.S), 1, 0};
  prob.split_depth = prob.depth;
  cuda_conv::launch(prob, int(s.groups), "cuda::conv2d_forward");
}

void conv2d_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  require_int32(s, "cuda::conv2d_backward_data");
  if (s.N == 0) return;
  if (s.is_depthwise()) return cuda_conv::depthwise_backward_data(s, gy, w, gx);
  cuda_conv::BackwardDataProblem prob{s, gy, w, gx, int(s.C_per_group), int(s.N) * int(s.H) * int(s.W), int(s.K_per_group) * int(s.R) * int(s.S), 1, 0};
  prob.split_depth = prob.depth;
  cuda_conv::launch(prob, int(s.groups), "cuda::conv2d_backward_data");
}

void conv2d_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw, float* gbias) {
  require_int32(s, "cuda::conv2d_backward_weight");
  const int weights = int(s.K) * int(s.C_per_group) * int(s.R) * int(s.S);
  if (s.N == 0) {  // an empty batch: all gradients are zero
    NIB_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * weights, nib::cuda::stream()));
    if (gbias) NIB_CUDA_CHECK(cudaMemsetAsync(gbias, 0, sizeof(float) * int(s.K), nib::cuda::stream()));
    return;
  }
  if (s.is_depthwise()) {
    cuda_conv::depthwise_backward_weight(s, x, gy, gw);
  } else {
    cuda_conv::BackwardWeightProblem prob{s, x, gy, gw, int(s.K_per_group), int(s.C_per_group) * int(s.R) * int(s.S), int(s.N) * int(s.P) * int(s.Q), 1, 0};
    const long long blocks = static_cast<long long>((prob.cols + cuda_conv::kBN - 1) / cuda_conv::kBN) *
                             ((prob.M + cuda_conv::kBM - 1) / cuda_conv::kBM) * int(s.groups);
    int splits = cuda_conv::choose_splits(blocks, prob.depth);
    // Each chunk a whole number of kBK steps; recount so that no chunk is empty.
    const int chunk = ((prob.depth + splits - 1) / splits + cuda_conv::kBK - 1) / cuda_conv::kBK * cuda_conv::kBK;
    splits = (prob.depth + chunk - 1) / chunk;
    prob.splits = splits;
    prob.split_depth = chunk;
    if (splits == 1) {
      cuda_conv::launch(prob, int(s.groups), "cuda::conv2d_backward_weight");
    } else {
      NIB_CHECK(static_cast<long long>(splits) * weights < INT_MAX,
                "cuda::conv2d_backward_weight: split workspace too large");
      nib::cuda::Workspace partial(sizeof(float) * splits * static_cast<size_t>(weights));
      prob.out = partial.as<float>();
      cuda_conv::launch(prob, int(s.groups), "cuda::conv2d_backward_weight");
      cuda_detail::launch(cuda_conv::sum_splits_kernel, nib::cuda::blocks_for(weights, 256), 256, partial.as<float>(), splits, weights, gw);
      // The workspace returns to the caching allocator when `partial` goes out
      // of scope; the allocator serves the same stream, so the kernels above
      // finish before any later user of that memory starts.
    }
  }
  if (gbias) {
    cuda_detail::launch(cuda_conv::bias_grad_kernel, int(s.K), 256, gy, int(s.N), int(s.K), int(s.P) * int(s.Q), gbias);
  }
}

}  // namespace nib::kernels::cuda
