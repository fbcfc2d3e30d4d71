// GEMM on the CPU, fast version: the classic Goto/BLIS structure.
//
// The reference does 2 loads per multiply-add and reuses nothing. A modern
// core can do two 8- or 16-wide FMAs per cycle but only ~2 loads, so the whole
// game is reuse: every value loaded into a register or cache must be used many
// times before it is evicted. Each level below exists for one level of the
// memory hierarchy:
//
//   for ip in M, step kMp            (bounds the packed A buffer)
//     for jc in N, step kNc          B panel  [kKc x kNc] packed, lives in L3
//       for pc in K, step kKc        A panel  [kMp x kKc] packed
//         for ic in panel, step kMc    A block  [kMc x kKc] lives in L2  } threads share
//           for jr in panel, step kNr  B sliver [kKc x kNr] lives in L1  } these tiles
//             for ir in block, step kMr
//               micro-kernel: C[kMr x kNr] += A sliver · B sliver, in registers
//
// Packing copies a block of op(A) or op(B) into the exact order the
// micro-kernel reads it: consecutive, aligned, zero-padded to whole slivers.
// This also absorbs trans_a/trans_b and the leading dimensions, so the
// micro-kernel has a single, branch-free form, and edge tiles cost no special
// code (the padding computes zeros that are simply not written back).
//
// The micro-kernel keeps a kMr x kNr tile of C in registers: 6 x 16 floats is
// 12 AVX2 registers, 6 x 32 is 12 AVX-512 ones, leaving room for a row of B
// and the broadcast values of A. Twelve independent accumulators are what it
// takes to keep two FMA units busy despite their 4-cycle latency. It is plain
// C++ with compile-time sizes, so g++ -O3 -march=native unrolls it and emits
// one broadcast-FMA per (i, vector of j) by itself (measured on one AVX-512
// core: ~155 GFLOP/s with 6x32 against ~2 for the reference).
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/gemm.h"

namespace nib::kernels::fast {

namespace {

constexpr int64_t kMr = 6;     // rows of the register tile
#ifdef __AVX512F__
constexpr int64_t kNr = 32;    // columns of the register tile: two AVX-512 vectors
#else
constexpr int64_t kNr = 16;    // columns of the register tile: two AVX2 vectors
#endif
constexpr int64_t kKc = 256;   // depth of a block: a kKc x kNr B sliver (16-32 KiB) stays in L1
constexpr int64_t kMc = 96;    // rows of an A block (multiple of kMr): kMc x kKc floats = 96 KiB, in L2
constexpr int64_t kNc = 2048;  // columns of a B panel (multiple of kNr): kKc x kNc floats = 2 MiB, in L3
// Rows of op(A) packed at once (multiple of kMc). Packing a whole panel of A
// before the parallel loop lets threads split the tiles over both M and N
// (a conv's M is often just 32-64 output channels); the cap bounds the buffer
// at kMp x kKc floats = 3 MiB however tall A is.
constexpr int64_t kMp = 3072;

// Below this many multiply-adds, starting threads costs more than it saves.
constexpr double kParallelThreshold = 64.0 * 64.0 * 64.0;

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// Rows [i0, i0+mc) x depth [p0, p0+kc) of op(A), as mc/kMr slivers; in each
// sliver, for every k the kMr values of one column lie side by side.
void pack_a(bool trans_a, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
  for (int64_t ir = 0; ir < mc; ir += kMr) {
    float* sliver = out + ir * kc;
    int64_t rows = std::min(kMr, mc - ir);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t i = 0; i < kMr; ++i) {
        int64_t row = i0 + ir + i, col = p0 + k;
        sliver[k * kMr + i] = i >= rows ? 0.0f : trans_a ? A[col * lda + row] : A[row * lda + col];
      }
    }
  }
}

// Depth [p0, p0+kc) x columns [j0, j0+nc) of op(B), as nc/kNr slivers; in each
// sliver, for every k the kNr values of one row lie side by side.
void pack_b(bool trans_b, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  int64_t slivers = round_up(nc, kNr) / kNr;
#pragma omp parallel for if (!omp_in_parallel() && kc * nc > 64 * 1024)
  for (int64_t js = 0; js < slivers; ++js) {
    int64_t jr = js * kNr;
    float* sliver = out + jr * kc;
    int64_t cols = std::min(kNr, nc - jr);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t j = 0; j < kNr; ++j) {
        int64_t row = p0 + k, col = j0 + jr + j;
        sliver[k * kNr + j] = j >= cols ? 0.0f : trans_b ? B[col * ldb + row] : B[row * ldb + col];
      }
    }
  }
}

// C tile (m x n valid, m <= kMr, n <= kNr) = alpha * (a · b) + beta * C.
// `first` says whether this is the first depth block: only then does beta
// apply; later blocks add to what the earlier ones wrote.
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, int64_t m, int64_t n,
                  float alpha, float beta, bool first, float* C, int64_t ldc) {
  float acc[kMr][kNr] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float* a_k = a + k * kMr;
    const float* b_k = b + k * kNr;
    // The pragmas make g++ vectorise along j (a row of the tile) and unroll
    // i, so the tile stays in registers; left alone it vectorises along i.
#pragma GCC unroll 6
    for (int64_t i = 0; i < kMr; ++i) {
#pragma omp simd
      for (int64_t j = 0; j < kNr; ++j) acc[i][j] += a_k[i] * b_k[j];
    }
  }
  for (int64_t i = 0; i < m; ++i) {
    float* c = C + i * ldc;
    if (!first)
      for (int64_t j = 0; j < n; ++j) c[j] += alpha * acc[i][j];
    else if (beta == 0.0f)  // C is not read: it may hold garbage or NaN
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * acc[i][j];
    else
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * acc[i][j] + beta * c[j];
  }
}

// C = beta * C, for K == 0 (or alpha == 0) where there is no product to add.
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  // Threads start only for big products, and never inside another parallel
  // region (a convolution running images in parallel calls us per image).
  const bool parallel = !omp_in_parallel() && static_cast<double>(M) * N * K > kParallelThreshold;

  // Packing buffers are kept per calling thread and reused: a convolution
  // calls gemm once per image, and fresh allocations would cost more than a
  // small product. Every entry the micro-kernel reads is written by packing.
  // (Plain pointers below: inside a parallel region the name of a
  // thread_local would mean each worker's own, empty, buffer.)
  thread_local std::vector<float> a_buffer, b_buffer;
  a_buffer.resize(std::max(a_buffer.size(), static_cast<size_t>(round_up(std::min(M, kMp), kMr) * kKc)));
  b_buffer.resize(std::max(b_buffer.size(), static_cast<size_t>(kKc * std::min(round_up(N, kNr), kNc))));
  float* const packed_a = a_buffer.data();
  float* const packed_b = b_buffer.data();

  for (int64_t ip = 0; ip < M; ip += kMp) {
    const int64_t mp = std::min(kMp, M - ip);
    const int64_t m_blocks = round_up(mp, kMc) / kMc;
    for (int64_t jc = 0; jc < N; jc += kNc) {
      const int64_t nc = std::min(kNc, N - jc);
      const int64_t n_slivers = round_up(nc, kNr) / kNr;
      for (int64_t pc = 0; pc < K; pc += kKc) {
        const int64_t kc = std::min(kKc, K - pc);
        const bool first = pc == 0;
        pack_b(trans_b, B, ldb, pc, kc, jc, nc, packed_b);
#pragma omp parallel for if (parallel) schedule(static)
        for (int64_t ib = 0; ib < m_blocks; ++ib)
          pack_a(trans_a, A, lda, ip + ib * kMc, std::min(kMc, mp - ib * kMc), pc, kc,
                 packed_a + ib * kMc * kc);

        // The tiles (an A block times a B sliver) are independent: threads
        // take contiguous runs of them, so a thread mostly keeps one A block
        // in its L2 while walking along B.
#pragma omp parallel for collapse(2) if (parallel) schedule(static)
        for (int64_t ib = 0; ib < m_blocks; ++ib) {
          for (int64_t js = 0; js < n_slivers; ++js) {
            const int64_t ic = ib * kMc, mc = std::min(kMc, mp - ic);
            const int64_t jr = js * kNr, n = std::min(kNr, nc - jr);
            const float* b_sliver = packed_b + jr * kc;
            for (int64_t ir = 0; ir < mc; ir += kMr) {
              const float* a_sliver = packed_a + (ic + ir) * kc;
              float* c = C + (ip + ic + ir) * ldc + jc + jr;
              micro_kernel(kc, a_sliver, b_sliver, std::min(kMr, mc - ir), n, alpha, beta, first, c, ldc);
            }
          }
        }
      }
    }
  }
}

}  // namespace nib::kernels::fast
