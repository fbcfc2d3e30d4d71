// What the CUDA GEMM rungs share: reading op(A) and op(B) element by element,
// the tile loader of the register-blocked rungs, and the epilogue rule
// "beta == 0 means C is not read".
//
// Row-major, as in kernels/gemm.h:
//   op(A)(i, k) = trans_a ? A[k * lda + i] : A[i * lda + k]     i < M, k < K
//   op(B)(k, j) = trans_b ? B[j * ldb + k] : B[k * ldb + j]     k < K, j < N
//
// One loader serves both operands. Shared-memory tiles are kept as
// tile[k][mn] (k outer) whichever the operand: for A, mn is the row i of C;
// for B, mn is the column j. What differs is which index is contiguous in
// global memory:
//   "k-contiguous"  element (mn, k) at src[mn * ld + k]  (A plain,      B transposed)
//   "mn-contiguous" element (mn, k) at src[k * ld + mn]  (A transposed, B plain)
// Threads are spread along the contiguous index so that a warp reads
// consecutive addresses (coalesced), four floats at a time when aligned.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "util/error.h"

namespace nib::kernels::cuda_gemm {

__device__ __forceinline__ float load_op_a(const float* A, int64_t lda, bool trans_a, int64_t i, int64_t k) {
  return trans_a ? A[k * lda + i] : A[i * lda + k];
}

__device__ __forceinline__ float load_op_b(const float* B, int64_t ldb, bool trans_b, int64_t k, int64_t j) {
  return trans_b ? B[j * ldb + k] : B[k * ldb + j];
}

// C = alpha * acc + beta * C, without reading C when beta == 0 (it may hold NaN).
__device__ __forceinline__ void store_c(float* C, int64_t ldc, int64_t i, int64_t j, float acc, float alpha,
                                        float beta) {
  float* c = C + i * ldc + j;
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

// Whether float4 loads of an operand are safe: the base pointer is 16-byte
// aligned and every row starts 16-byte aligned (ld a multiple of 4). The
// loader only asks for groups starting at a multiple of 4 along the
// contiguous index, so these two conditions are enough.
inline bool can_load_float4(const float* ptr, int64_t ld) {
  return reinterpret_cast<uintptr_t>(ptr) % 16 == 0 && ld % 4 == 0;
}

// Four consecutive elements along the contiguous index starting at (mn, k):
//   k-contiguous:  (mn, k), (mn, k+1), (mn, k+2), (mn, k+3)
//   mn-contiguous: (mn, k), (mn+1, k), (mn+2, k), (mn+3, k)
// Elements outside [0, MN) x [0, K) read as 0, so partial tiles contribute
// nothing to the dot products.
__device__ __forceinline__ float4 fetch4(const float* src, int64_t ld, bool k_contiguous, bool vec_ok, int64_t mn,
                                         int64_t k, int64_t MN, int64_t K) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (k_contiguous) {
    if (mn >= MN || k >= K) return v;
    const float* p = src + mn * ld + k;
    if (vec_ok && k + 3 < K) return *reinterpret_cast<const float4*>(p);
    v.x = p[0];
    if (k + 1 < K) v.y = p[1];
    if (k + 2 < K) v.z = p[2];
    if (k + 3 < K) v.w = p[3];
  } else {
    if (k >= K || mn >= MN) return v;
    const float* p = src + k * ld + mn;
    if (vec_ok && mn + 3 < MN) return *reinterpret_cast<const float4*>(p);
    v.x = p[0];
    if (mn + 1 < MN) v.y = p[1];
    if (mn + 2 < MN) v.z = p[2];
    if (mn + 3 < MN) v.w = p[3];
  }
  return v;
}

// A tile of TILE_MN x BK elements seen as groups of four along the
// contiguous index; each of the THREADS threads fetches GROUPS of them.
//
// Shared tiles are tile[k][mn] with rows of kRowLength = TILE_MN + 4 floats.
// The 4 floats of padding make the stores conflict-free on both paths (the
// reads of the GEMM kernels, float4s along a row, are conflict-free with or
// without it):
//   mn-contiguous: a group is four consecutive mn's of one k, stored as one
//     float4; a warp's 32 float4s fill 128 consecutive floats of a row
//     (four scalar stores instead would hit each bank four times);
//   k-contiguous: a group is four k's of one mn, a column of the tile, so
//     each of its four scalar stores writes one float per thread. The two
//     threads of a pair take k's 0..3 and 4..7 (see group_position) of the
//     same 16 mn's; rows 4 apart are 4 * kRowLength floats apart, 16 banks
//     when kRowLength % 8 == 4, so the pair's two floats land in different
//     banks and the warp's 32 stores in 32 banks. Without the padding (rows
//     of 128 floats) both would hit the same bank: a 2-way conflict.
template <int TILE_MN, int BK, int THREADS>
struct TileLoader {
  static constexpr int kGroups = TILE_MN * BK / 4 / THREADS;
  static constexpr int kRowLength = TILE_MN + 4;
  static_assert(TILE_MN % 16 == 0 && BK % 8 == 0, "tiles are read in groups of four, in pairs along k");
  static_assert(kGroups * THREADS * 4 == TILE_MN * BK, "every thread fetches the same number of groups");
  static_assert(kRowLength % 8 == 4, "rows 4 k's apart must start 16 banks apart");

  float4 regs[kGroups];

  // Group g of the tile, for tiles whose first element is (mn0, k0):
  //   k-contiguous:  mn = (g / 2) % TILE_MN,  k = 4 * (g % 2 + 2 * (g / (2 * TILE_MN)))
  //   mn-contiguous: k  = g / (TILE_MN / 4),  mn = (g % (TILE_MN / 4)) * 4
  // k-contiguous: neighbouring threads fetch the two halves of 8 k's of one
  // row of the source (one 32-byte sector, read whole), and a warp covers 16
  // consecutive mn's; the next k's of those rows come with the next TILE_MN
  // pairs of groups (the tile's k's 8..15 when BK = 16).
  // mn-contiguous: a warp reads 128 consecutive floats of one k.
  __device__ __forceinline__ static void group_position(bool k_contiguous, int g, int& mn, int& k) {
    if (k_contiguous) {
      mn = (g / 2) % TILE_MN;
      k = 4 * (g % 2 + 2 * (g / (2 * TILE_MN)));
    } else {
      k = g / (TILE_MN / 4);
      mn = (g % (TILE_MN / 4)) * 4;
    }
  }

  // Global memory -> registers (the loads are in flight until regs is used).
  __device__ __forceinline__ void fetch(const float* src, int64_t ld, bool k_contiguous, bool vec_ok, int64_t mn0,
                                        int64_t k0, int64_t MN, int64_t K) {
#pragma unroll
    for (int t = 0; t < kGroups; ++t) {
      int mn, k;
      group_position(k_contiguous, threadIdx.x + t * THREADS, mn, k);
      regs[t] = fetch4(src, ld, k_contiguous, vec_ok, mn0 + mn, k0 + k, MN, K);
    }
  }

  // Registers -> shared tile[k][mn] (see the top for why it is conflict-free).
  __device__ __forceinline__ void store(bool k_contiguous, float (*tile)[kRowLength]) const {
#pragma unroll
    for (int t = 0; t < kGroups; ++t) {
      int mn, k;
      group_position(k_contiguous, threadIdx.x + t * THREADS, mn, k);
      const float4& v = regs[t];
      if (k_contiguous) {  // four k's of one mn: a column of the tile
        tile[k + 0][mn] = v.x;
        tile[k + 1][mn] = v.y;
        tile[k + 2][mn] = v.z;
        tile[k + 3][mn] = v.w;
      } else {  // four mn's of one k: part of a row, 16-byte aligned (mn % 4 == 0, rows of 4k floats)
        *reinterpret_cast<float4*>(&tile[k][mn]) = v;
      }
    }
  }
};

// Number of tiles of size `tile` covering n.
inline unsigned tiles(int64_t n, int64_t tile) { return static_cast<unsigned>((n + tile - 1) / tile); }

// The checks every rung's host wrapper makes. Returns false when there is
// nothing to do (an empty C). Row tiles go on gridDim.y, whose limit is 65535.
inline bool check_gemm(const char* name, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc,
                       int64_t row_tile) {
  NIB_CHECK(M >= 0 && N >= 0 && K >= 0, name, ": negative size M=", M, " N=", N, " K=", K);
  NIB_CHECK(lda >= 0 && ldb >= 0 && ldc >= 0, name, ": negative leading dimension");
  if (M == 0 || N == 0) return false;
  NIB_CHECK(ldc >= N, name, ": ldc=", ldc, " is smaller than N=", N);
  NIB_CHECK((M + row_tile - 1) / row_tile <= 65535, name, ": M=", M, " needs more than 65535 row tiles");
  return true;
}

}  // namespace nib::kernels::cuda_gemm
