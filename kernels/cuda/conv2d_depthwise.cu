// Depthwise convolution (groups == C == K: each channel convolved with its
// own R x S filter), written directly rather than as a GEMM.
//
// Why not implicit GEMM: per group the GEMM is 1 x (R*S) times (R*S) x (N*P*Q),
// a single row, so a 64 x 64 GEMM tile would waste 63/64 of its work. Here
// each thread computes one output (or one input gradient) with an R x S
// loop; the filter taps are reused from cache and consecutive threads touch
// consecutive pixels of one plane (coalesced). MobileNet spends much of its
// time in these layers.
//
// Indexing (NCHW, Cg = 1):  x[((n*C + c)*H + h)*W + w],  w[(c*R + r)*S + s],
//                           y[((n*C + c)*P + p)*Q + q]
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/block_sum.cuh"
#include "kernels/cuda/conv2d_depthwise.h"

namespace nib::kernels::cuda_conv {

namespace {

constexpr int kThreads = 256;

// One thread per output y[n, c, p, q].
__global__ void depthwise_forward_kernel(const Conv2dProblem s, const float* __restrict__ x, const float* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y) {
  const int total = int(s.N) * int(s.C) * int(s.P) * int(s.Q);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int q = i % int(s.Q), p = (i / int(s.Q)) % int(s.P), nc = i / (int(s.P) * int(s.Q)), c = nc % int(s.C);
  const float* plane = x + nc * int(s.H) * int(s.W);
  const float* filter = w + c * int(s.R) * int(s.S);
  float acc = bias ? bias[c] : 0.0f;
  for (int r = 0; r < int(s.R); ++r) {
    const int h = p * int(s.stride_h) - int(s.pad_top) + r * int(s.dilation_h);
    if (h < 0 || h >= int(s.H)) continue;
    for (int sx = 0; sx < int(s.S); ++sx) {
      const int wi = q * int(s.stride_w) - int(s.pad_left) + sx * int(s.dilation_w);
      if (wi < 0 || wi >= int(s.W)) continue;
      acc += plane[h * int(s.W) + wi] * filter[r * int(s.S) + sx];
    }
  }
  y[i] = acc;
}

// One thread per input gradient gx[n, c, h, w]: the outputs (p, q) whose
// window covered (h, w) through tap (r, s) satisfy p*sh = h + pt - r*dh.
__global__ void depthwise_backward_data_kernel(const Conv2dProblem s, const float* __restrict__ gy,
                                               const float* __restrict__ w, float* __restrict__ gx) {
  const int total = int(s.N) * int(s.C) * int(s.H) * int(s.W);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int wi = i % int(s.W), h = (i / int(s.W)) % int(s.H), nc = i / (int(s.H) * int(s.W)), c = nc % int(s.C);
  const float* gplane = gy + nc * int(s.P) * int(s.Q);
  const float* filter = w + c * int(s.R) * int(s.S);
  float acc = 0.0f;
  for (int r = 0; r < int(s.R); ++r) {
    const int hp = h + int(s.pad_top) - r * int(s.dilation_h);
    if (hp < 0 || hp % int(s.stride_h) != 0) continue;
    const int p = hp / int(s.stride_h);
    if (p >= int(s.P)) continue;
    for (int sx = 0; sx < int(s.S); ++sx) {
      const int wp = wi + int(s.pad_left) - sx * int(s.dilation_w);
      if (wp < 0 || wp % int(s.stride_w) != 0) continue;
      const int q = wp / int(s.stride_w);
      if (q >= int(s.Q)) continue;
      acc += gplane[p * int(s.Q) + q] * filter[r * int(s.S) + sx];
    }
  }
  gx[i] = acc;
}

// One block per filter tap gw[c, r, s]: the block sums gy * x over n, p, q.
__global__ void depthwise_backward_weight_kernel(const Conv2dProblem s, const float* __restrict__ x,
                                                 const float* __restrict__ gy, float* __restrict__ gw) {
  const int tap = blockIdx.x;  // (c*R + r)*S + sx
  const int sx = tap % int(s.S), r = (tap / int(s.S)) % int(s.R), c = tap / (int(s.R) * int(s.S));
  const int PQ = int(s.P) * int(s.Q);
  float acc = 0.0f;
  for (int i = threadIdx.x; i < int(s.N) * PQ; i += blockDim.x) {
    const int n = i / PQ, pq = i - n * PQ;
    const int p = pq / int(s.Q), q = pq - p * int(s.Q);
    const int h = p * int(s.stride_h) - int(s.pad_top) + r * int(s.dilation_h);
    const int wi = q * int(s.stride_w) - int(s.pad_left) + sx * int(s.dilation_w);
    if (h < 0 || h >= int(s.H) || wi < 0 || wi >= int(s.W)) continue;
    const int nc = n * int(s.C) + c;
    acc += gy[nc * PQ + pq] * x[(nc * int(s.H) + h) * int(s.W) + wi];
  }
  acc = cuda_reduce::block_sum(acc);
  if (threadIdx.x == 0) gw[tap] = acc;
}

}  // namespace

void depthwise_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  const int total = int(s.N) * int(s.C) * int(s.P) * int(s.Q);
  cuda_detail::launch(depthwise_forward_kernel, nib::cuda::blocks_for(total, kThreads), kThreads, s, x, w, bias, y);
}

void depthwise_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  const int total = int(s.N) * int(s.C) * int(s.H) * int(s.W);
  cuda_detail::launch(depthwise_backward_data_kernel, nib::cuda::blocks_for(total, kThreads), kThreads, s, gy, w, gx);
}

void depthwise_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw) {
  const int taps = int(s.C) * int(s.R) * int(s.S);
  cuda_detail::launch(depthwise_backward_weight_kernel, taps, kThreads, s, x, gy, gw);
}

}  // namespace nib::kernels::cuda_conv
