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
__global__ void depthwise_forward_kernel(const Geometry s, const float* __restrict__ x, const float* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y) {
  const int total = s.N * s.C * s.P * s.Q;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int q = i % s.Q, p = (i / s.Q) % s.P, nc = i / (s.P * s.Q), c = nc % s.C;
  const float* plane = x + nc * s.H * s.W;
  const float* filter = w + c * s.R * s.S;
  float acc = bias ? bias[c] : 0.0f;
  for (int r = 0; r < s.R; ++r) {
    const int h = p * s.sh - s.pt + r * s.dh;
    if (h < 0 || h >= s.H) continue;
    for (int sx = 0; sx < s.S; ++sx) {
      const int wi = q * s.sw - s.pl + sx * s.dw;
      if (wi < 0 || wi >= s.W) continue;
      acc += plane[h * s.W + wi] * filter[r * s.S + sx];
    }
  }
  y[i] = acc;
}

// One thread per input gradient gx[n, c, h, w]: the outputs (p, q) whose
// window covered (h, w) through tap (r, s) satisfy p*sh = h + pt - r*dh.
__global__ void depthwise_backward_data_kernel(const Geometry s, const float* __restrict__ gy,
                                               const float* __restrict__ w, float* __restrict__ gx) {
  const int total = s.N * s.C * s.H * s.W;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int wi = i % s.W, h = (i / s.W) % s.H, nc = i / (s.H * s.W), c = nc % s.C;
  const float* gplane = gy + nc * s.P * s.Q;
  const float* filter = w + c * s.R * s.S;
  float acc = 0.0f;
  for (int r = 0; r < s.R; ++r) {
    const int hp = h + s.pt - r * s.dh;
    if (hp < 0 || hp % s.sh != 0) continue;
    const int p = hp / s.sh;
    if (p >= s.P) continue;
    for (int sx = 0; sx < s.S; ++sx) {
      const int wp = wi + s.pl - sx * s.dw;
      if (wp < 0 || wp % s.sw != 0) continue;
      const int q = wp / s.sw;
      if (q >= s.Q) continue;
      acc += gplane[p * s.Q + q] * filter[r * s.S + sx];
    }
  }
  gx[i] = acc;
}

// One block per filter tap gw[c, r, s]: the block sums gy * x over n, p, q.
__global__ void depthwise_backward_weight_kernel(const Geometry s, const float* __restrict__ x,
                                                 const float* __restrict__ gy, float* __restrict__ gw) {
  const int tap = blockIdx.x;  // (c*R + r)*S + sx
  const int sx = tap % s.S, r = (tap / s.S) % s.R, c = tap / (s.R * s.S);
  const int PQ = s.P * s.Q;
  float acc = 0.0f;
  for (int i = threadIdx.x; i < s.N * PQ; i += blockDim.x) {
    const int n = i / PQ, pq = i - n * PQ;
    const int p = pq / s.Q, q = pq - p * s.Q;
    const int h = p * s.sh - s.pt + r * s.dh;
    const int wi = q * s.sw - s.pl + sx * s.dw;
    if (h < 0 || h >= s.H || wi < 0 || wi >= s.W) continue;
    const int nc = n * s.C + c;
    acc += gy[nc * PQ + pq] * x[(nc * s.H + h) * s.W + wi];
  }
  acc = cuda_reduce::block_sum(acc);
  if (threadIdx.x == 0) gw[tap] = acc;
}

}  // namespace

void depthwise_forward(const Geometry& s, const float* x, const float* w, const float* bias, float* y) {
  const int total = s.N * s.C * s.P * s.Q;
  cuda_detail::launch(depthwise_forward_kernel, nib::cuda::blocks_for(total, kThreads), kThreads, s, x, w, bias, y);
}

void depthwise_backward_data(const Geometry& s, const float* gy, const float* w, float* gx) {
  const int total = s.N * s.C * s.H * s.W;
  cuda_detail::launch(depthwise_backward_data_kernel, nib::cuda::blocks_for(total, kThreads), kThreads, s, gy, w, gx);
}

void depthwise_backward_weight(const Geometry& s, const float* x, const float* gy, float* gw) {
  const int taps = s.C * s.R * s.S;
  cuda_detail::launch(depthwise_backward_weight_kernel, taps, kThreads, s, x, gy, gw);
}

}  // namespace nib::kernels::cuda_conv
