// Implicit GEMM: a tiled GEMM whose operands are never stored as matrices.
//
// A convolution is a GEMM over an unrolled input (im2col), but the unrolled
// matrix is R*S times bigger than the input. Here the GEMM kernel asks a
// Problem for the elements it needs; the Problem knows which input pixel (or
// weight, or gradient) each is, and returns 0 for padding. Only tiles of the
// virtual matrices ever exist, in shared memory.
//
// The GEMM itself is the tiled, register-blocked scheme of the GEMM ladder
// (gemm_regblock.cu): a 64 x 64 tile of the result per block of 256
// threads, 4 x 4 results per thread, steps of 16 along the reduction.
// Results go through Problem::store(g, split, m, col, value), which scatters
// them into NCHW (and adds the bias).
//
// Walking instead of decoding. Which pixel an element of the virtual
// matrices is takes 4-6 integer divisions to work out from its flat indices
// ((n, p, q) from a column, (c, r, s) from a reduction index). But each
// thread loads the same column of the B tile at every step, and the same
// reduction offset of the A tile, and its reduction indices form an
// arithmetic progression: so a thread decodes its column once per block and
// its reduction index once, then steps through the reduction digit by digit
// with carries (Digits below: additions and comparisons). Expected to make
// the tile loads several times cheaper in instructions, which matters most
// for the small-channel layers where loading dominates; not yet measured on
// a GPU.
//
// The A tile is stored transposed (a_tile[k][m]), so that the inner loop
// reads a thread's 4 rows as one float4; the threads that store it are laid
// out so that those stores are conflict-free (see the kernel).
//
// Grid: x = column tiles, y = row tiles, z = groups x splits. Splitting the
// reduction ("split-K") gives the weight gradient, a small matrix with a
// huge reduction (N*P*Q), enough blocks to fill the GPU; each split writes
// its partial result and a second pass adds them (conv2d.cu).
//
// Problem interface (all sizes int: conv2d.cu checks tensors stay below 2^31):
//   int M, cols, depth;           // result rows, result columns, reduction length
//   int splits, split_depth;      // reduction split into `splits` chunks of split_depth (a multiple of kBK)
//   AWalk a_walk(int g, int k, int step) const;
//       AWalk::at(int m): element (m, k) of the left operand A, 0 <= m < M;
//       AWalk::advance(): k += step.
//   BWalk b_walk(int g, int col, int k, int step) const;
//       BWalk::value(): element (k, col) of the right operand B;
//       BWalk::advance(): k += step.
//   void store(int g, int split, int m, int col, float v) const;
// A walk's k (and a B walk's col) may lie outside the matrix: the kernel
// then never asks for the value, but the walk must still be built and
// advanced without touching memory.
#pragma once

#include <cuda_runtime.h>

namespace nib::kernels::cuda_conv {

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256;
constexpr int kPad = 4;  // rows of 68 floats: 16-byte aligned, and 4 banks apart (conflict-free A stores)

// A flat index split into D mixed-radix digits, value = ((d0 * radix1 + d1)
// * radix2 + d2) ..., the outermost digit unbounded; advance() adds a fixed
// step with carries. The step is split into digits once, each below its
// radix, so a digit overflows at most once per advance: one comparison, no
// division.
template <int D>
struct Digits {
  int digit[D], step[D], radix[D];  // radix[0] is unused

  // radices: radix1 .. radix(D-1), outermost first.
  template <class... Radices>
  __device__ Digits(int value, int step_by, Radices... radices) : radix{1, radices...} {
    static_assert(sizeof...(Radices) == D - 1, "one radix per digit but the outermost");
#pragma unroll
    for (int d = D - 1; d > 0; --d) {
      digit[d] = value % radix[d];
      value /= radix[d];
      step[d] = step_by % radix[d];
      step_by /= radix[d];
    }
    digit[0] = value;
    step[0] = step_by;
  }

  __device__ void advance() {
    int carry = 0;
#pragma unroll
    for (int d = D - 1; d > 0; --d) {
      digit[d] += step[d] + carry;
      carry = digit[d] >= radix[d];
      if (carry) digit[d] -= radix[d];
    }
    digit[0] += step[0] + carry;
  }
};

template <class Problem>
__global__ void __launch_bounds__(kThreads) implicit_gemm_kernel(const Problem prob) {
  // a_tile[k][m] = A(m0 + m, k0 + k);  b_tile[k][c] = B(k0 + k, col0 + c)
  __shared__ __align__(16) float a_tile[kBK][kBM + kPad];
  __shared__ __align__(16) float b_tile[kBK][kBN + kPad];

  const int tid = threadIdx.x;
  const int col0 = blockIdx.x * kBN;
  const int m0 = blockIdx.y * kBM;
  const int g = blockIdx.z / prob.splits;
  const int split = blockIdx.z % prob.splits;
  const int k_begin = split * prob.split_depth;
  const int k_end = min(prob.depth, k_begin + prob.split_depth);

  // A tile loads: each thread one reduction offset a_k, rows a_m + 16 t.
  // A warp covers 8 consecutive k's (32 bytes of a weight row, read whole)
  // of 4 rows; in a_tile that is k*68 + m, banks 4 k + m (mod 32): all 32
  // differ. (Sixteen k's of 2 rows, the obvious layout, hit each bank twice.)
  static_assert(kThreads == 256 && kBK == 16 && kBM == 64, "the A load layout below is for these sizes");
  constexpr int kARowsPerPass = kThreads / kBK;  // 16
  const int a_k = tid % 8 + 8 * (tid / 128), a_m = (tid / 8) % kARowsPerPass;
  // B tile loads: each thread one column b_c (consecutive threads,
  // consecutive output pixels: coalesced), reduction offsets b_k + 4 t.
  constexpr int kBRowsPerPass = kThreads / kBN;  // 4
  const int b_c = tid % kBN, b_k = tid / kBN;
  const bool b_column_inside = col0 + b_c < prob.cols;

  auto a_walk = prob.a_walk(g, k_begin + a_k, kBK);
  // b_k, b_k + 4, b_k + 8, b_k + 12, then the next step's b_k + 16: one progression.
  auto b_walk = prob.b_walk(g, col0 + b_c, k_begin + b_k, kBRowsPerPass);

  const int tr = tid / 16;  // result rows m0 + tr*4 + {0..3}
  const int tc = tid % 16;  // result columns col0 + tc*4 + {0..3}
  float acc[4][4] = {};

  for (int k0 = k_begin; k0 < k_end; k0 += kBK) {
    const bool a_k_inside = k0 + a_k < k_end;
#pragma unroll
    for (int t = 0; t < kBM / kARowsPerPass; ++t) {
      const int m = a_m + t * kARowsPerPass;
      a_tile[a_k][m] = a_k_inside && m0 + m < prob.M ? a_walk.at(m0 + m) : 0.0f;
    }
    a_walk.advance();
#pragma unroll
    for (int t = 0; t < kBK / kBRowsPerPass; ++t) {
      const int k = b_k + t * kBRowsPerPass;
      b_tile[k][b_c] = b_column_inside && k0 + k < k_end ? b_walk.value() : 0.0f;
      b_walk.advance();
    }
    __syncthreads();

#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a = *reinterpret_cast<const float4*>(&a_tile[k][tr * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&b_tile[k][tc * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w};
      const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + tr * 4 + i;
    if (m >= prob.M) break;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = col0 + tc * 4 + j;
      if (col < prob.cols) prob.store(g, split, m, col, acc[i][j]);
    }
  }
}

}  // namespace nib::kernels::cuda_conv
