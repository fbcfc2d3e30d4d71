// GEMM rung 5 of 5: TF32 tensor cores (cuda::gemm_tf32). cuda::gemm runs it
// instead of rung 4 when kernels::allow_tf32() is true; off by default.
//
// What changes from rung 4 (gemm.cu):
//  - The multiply-adds run on tensor cores. A warp hands the hardware a
//    16 x 8 piece of op(A) and an 8 x 16 piece of op(B) and gets their
//    16 x 16 product added to an accumulator in one call (mma_sync, shape
//    m16n16k8), instead of 32 threads doing 64 scalar FMAs each. By the
//    spec sheets, an A100 or H100 has about 8x more dense TF32 tensor-core
//    throughput than FP32 FMA throughput.
//  - The price is precision: each input is rounded to TF32 (8 exponent bits
//    like FP32, but 10 mantissa bits instead of 23), so every product carries
//    a relative error up to ~1e-3 (2^-11 per operand); the sums are still
//    accumulated in FP32. Hence opt-in, as in cuBLAS and PyTorch.
//  - Warp tiling instead of thread tiling. The block still owns a 128 x 128
//    tile of C with 256 threads, but the unit of work is now a warp: the 8
//    warps form a 2 x 4 grid and each owns a 64 x 32 piece of C, i.e. 4 x 2
//    accumulator fragments of 16 x 16. Per k-slice of 8, a warp loads 4 A
//    fragments and 2 B fragments from shared memory and issues 8 mma_syncs,
//    so each fragment load feeds 2 (A) or 4 (B) tensor-core operations.
//  - The k-step is 16 (two mma k-slices per shared tile) to give the tensor
//    cores more work per __syncthreads; the rest of the pipeline is rung 4's:
//    TileLoader with zero-filled edges (any M, N, K, transposes, unaligned
//    ld), double-buffered shared tiles, one __syncthreads per step.
//  - Conversion to TF32 happens once per element, in registers, between the
//    global load and the store to shared memory (cvt.rna: round to nearest).
//    The fragments then hold exact TF32 values and need no conversion
//    themselves; converting each fragment after load_matrix_sync (the
//    usual WMMA pattern) would convert every A element 4 times, once per
//    warp of the row band that reads it.
//  - Epilogue through shared memory. Which lane holds which accumulator
//    element is unspecified in WMMA, so a warp stores each fragment into its
//    own 16 x 16 scratch tile (store_matrix_sync), then every lane writes 8
//    elements to C with bounds checks and alpha/beta (cuda_gemm::store_c:
//    beta == 0 never reads C).
//
// Why WMMA rather than inline PTX mma.sync.m16n8k8: this kernel was written
// without a GPU to test it on. WMMA's documented API (fragment types, loads
// with an explicit layout and leading dimension) leaves nothing to get wrong
// in a hand-written register layout; mma.sync would let the epilogue skip
// the shared-memory staging and allow ldmatrix-style loads, which is the
// natural next step once this version has been validated on a GPU.
//
// Needs compute capability 8.0 (Ampere) or newer. The body is compiled only
// for sm_80+ (the WMMA TF32 types do not exist below); the host wrapper
// refuses older GPUs, and cuda::gemm falls back to rung 4 on them.
// Speed: not yet measured on a GPU.
#include <mma.h>

#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/gemm.h"

// The WMMA TF32 types and __float_to_tf32 exist in the host pass and when
// compiling for sm_80 or newer; for older targets the kernel is an empty stub.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define NIB_TF32_TENSOR_CORES 1
#endif

namespace nib::kernels::cuda {

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kBM = 128, kBN = 128, kBK = 16;  // block tile of C, and depth of one step
constexpr int kWarpsM = 2, kWarpsN = 4;        // the block's warps as a 2 x 4 grid
constexpr int kThreads = kWarpsM * kWarpsN * 32;
constexpr int kWM = kBM / kWarpsM, kWN = kBN / kWarpsN;        // 64 x 32: one warp's piece of C
constexpr int kFragM = 16, kFragN = 16, kFragK = 8;            // the WMMA TF32 shape m16n16k8
constexpr int kFragsM = kWM / kFragM, kFragsN = kWN / kFragN;  // 4 x 2 accumulators per warp
using Loader = cuda_gemm::TileLoader<kBM, kBK, kThreads>;
// Shared rows of 132 floats, the loader's padded row length (it makes the
// loader's stores conflict-free, gemm_common.cuh). WMMA needs the leading
// dimension to be a multiple of 4 floats and fragment pointers 32-byte
// aligned: fragment k offsets (0, 8) times 132 stay multiples of 8 floats.
constexpr int kLd = Loader::kRowLength;
static_assert(kLd % 4 == 0 && (kFragK * kLd) % 8 == 0, "WMMA's alignment of rows and fragments");
static_assert(kBM == kBN, "one padded row length serves both tiles");
static_assert(kBK % kFragK == 0 && kWM % kFragM == 0 && kWN % kFragN == 0, "warp tile is whole fragments");

#ifdef NIB_TF32_TENSOR_CORES
using FragA = wmma::fragment<wmma::matrix_a, kFragM, kFragN, kFragK, wmma::precision::tf32, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, kFragM, kFragN, kFragK, wmma::precision::tf32, wmma::row_major>;
using FragC = wmma::fragment<wmma::accumulator, kFragM, kFragN, kFragK, float>;

// Rounds the loader's fetched values to TF32 in place. Zeros (the padding of
// partial tiles) stay zero.
__device__ __forceinline__ void round_to_tf32(Loader& loader) {
#pragma unroll
  for (int t = 0; t < Loader::kGroups; ++t) {
    float4& v = loader.regs[t];
    v.x = wmma::__float_to_tf32(v.x);
    v.y = wmma::__float_to_tf32(v.y);
    v.z = wmma::__float_to_tf32(v.z);
    v.w = wmma::__float_to_tf32(v.w);
  }
}
#endif  // NIB_TF32_TENSOR_CORES

// Registers (ptxas -v, sm_90, CUDA 13.0): 182 a thread, no spills; with the
// conflict-free loader of gemm_common.cuh, 182. One block of 8 warps per
// multiprocessor either way: two would need at most 128, and
// __launch_bounds__(kThreads, 2) gets there only by spilling 140 bytes a
// thread (232 bytes of reloads) inside the main loop, where the 64
// accumulator floats, the next tile's 16 prefetched floats and 12 fragment
// registers are all live. Not taken without a GPU to weigh the spills
// against the occupancy; loading the next tile with cp.async (global to
// shared, no registers) is the way to free those 16 registers.
__global__ void __launch_bounds__(kThreads)
    gemm_tf32_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                     const float* __restrict__ A, int64_t lda, bool a_vec, const float* __restrict__ B, int64_t ldb,
                     bool b_vec, float beta, float* __restrict__ C, int64_t ldc) {
#ifdef NIB_TF32_TENSOR_CORES
  // a_tile[buf][k][i] = op(A)(row0 + i, k0 + k);  b_tile[buf][k][j] = op(B)(k0 + k, col0 + j).
  // Seen by WMMA, a_tile[buf] is the 128 x 16 A tile stored column-major
  // (element (i, k) at k * kLd + i) and b_tile[buf] the 16 x 128 B tile
  // stored row-major (element (k, j) at k * kLd + j), both with ldm = kLd.
  // 2 * 2 * 16 * 132 floats = 33 KiB, plus 8 KiB of epilogue scratch.
  __shared__ __align__(32) float a_tile[2][kBK][kLd];
  __shared__ __align__(32) float b_tile[2][kBK][kLd];
  __shared__ __align__(32) float scratch[kThreads / 32][kFragM * kFragN];  // one 16 x 16 tile per warp

  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kBM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row = (warp / kWarpsN) * kWM;  // this warp's piece of C within the block tile
  const int warp_col = (warp % kWarpsN) * kWN;

  const bool a_k_contiguous = !trans_a;
  const bool b_k_contiguous = trans_b;
  Loader a_loader, b_loader;

  FragC acc[kFragsM][kFragsN];
#pragma unroll
  for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
    for (int fn = 0; fn < kFragsN; ++fn) wmma::fill_fragment(acc[fm][fn], 0.0f);

  const int64_t steps = (K + kBK - 1) / kBK;

  if (steps > 0) {  // prologue: step 0 into buffer 0
    a_loader.fetch(A, lda, a_k_contiguous, a_vec, row0, 0, M, K);
    b_loader.fetch(B, ldb, b_k_contiguous, b_vec, col0, 0, N, K);
    round_to_tf32(a_loader);
    round_to_tf32(b_loader);
    a_loader.store(a_k_contiguous, a_tile[0]);
    b_loader.store(b_k_contiguous, b_tile[0]);
    __syncthreads();
  }

  for (int64_t step = 0; step < steps; ++step) {
    const int cur = static_cast<int>(step & 1);
    const bool has_next = step + 1 < steps;  // the same for the whole block, so no warp diverges
    if (has_next) {  // issue the next step's global loads now; they complete while the tensor cores work
      a_loader.fetch(A, lda, a_k_contiguous, a_vec, row0, (step + 1) * kBK, M, K);
      b_loader.fetch(B, ldb, b_k_contiguous, b_vec, col0, (step + 1) * kBK, N, K);
    }

#pragma unroll
    for (int kk = 0; kk < kBK; kk += kFragK) {
      FragA a[kFragsM];
      FragB b[kFragsN];
#pragma unroll
      for (int fm = 0; fm < kFragsM; ++fm)  // rows warp_row + fm*16 .. +16, k's kk .. kk+8
        wmma::load_matrix_sync(a[fm], &a_tile[cur][kk][warp_row + fm * kFragM], kLd);
#pragma unroll
      for (int fn = 0; fn < kFragsN; ++fn)  // k's kk .. kk+8, columns warp_col + fn*16 .. +16
        wmma::load_matrix_sync(b[fn], &b_tile[cur][kk][warp_col + fn * kFragN], kLd);
#pragma unroll
      for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
        for (int fn = 0; fn < kFragsN; ++fn) wmma::mma_sync(acc[fm][fn], a[fm], b[fn], acc[fm][fn]);
    }

    if (has_next) {
      // The other buffer was last read in the previous step, which ended
      // with a __syncthreads, so it is free to overwrite.
      round_to_tf32(a_loader);
      round_to_tf32(b_loader);
      a_loader.store(a_k_contiguous, a_tile[cur ^ 1]);
      b_loader.store(b_k_contiguous, b_tile[cur ^ 1]);
    }
    __syncthreads();  // next buffer complete, and everyone is done with this one
  }

  // Epilogue: fragment (fm, fn) covers C rows frag_row + r and columns
  // frag_col + c, r, c in [0, 16). Lane l writes the elements e = l + 32 t
  // (t = 0..7) of the row-major scratch tile: r = e / 16, c = e % 16, so a
  // warp writes two 16-float row segments of C at a time.
  float* tile = scratch[warp];
#pragma unroll
  for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
    for (int fn = 0; fn < kFragsN; ++fn) {
      const int64_t frag_row = row0 + warp_row + fm * kFragM;
      const int64_t frag_col = col0 + warp_col + fn * kFragN;
      if (frag_row >= M || frag_col >= N) continue;  // wholly outside C; the same for every lane
      wmma::store_matrix_sync(tile, acc[fm][fn], kFragN, wmma::mem_row_major);
      __syncwarp();  // the whole fragment is in scratch before any lane reads it
#pragma unroll
      for (int t = 0; t < kFragM * kFragN / 32; ++t) {
        const int e = lane + 32 * t;
        const int64_t row = frag_row + e / kFragN, col = frag_col + e % kFragN;
        if (row < M && col < N) cuda_gemm::store_c(C, ldc, row, col, tile[e], alpha, beta);
      }
      __syncwarp();  // every lane has read scratch before the next fragment overwrites it
    }
#else
  __trap();  // compiled for a GPU without TF32 tensor cores; the host wrapper should have refused
#endif
}

}  // namespace

void gemm_tf32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!cuda_gemm::check_gemm("cuda::gemm_tf32", M, N, K, lda, ldb, ldc, kBM)) return;
  const cudaDeviceProp& prop = nib::cuda::properties();
  NIB_CHECK(prop.major >= 8, "cuda::gemm_tf32: TF32 tensor cores need compute capability 8.0 or newer; ", prop.name,
            " is ", prop.major, ".", prop.minor);
  dim3 grid(cuda_gemm::tiles(N, kBN), cuda_gemm::tiles(M, kBM));
  cuda_detail::launch(gemm_tf32_kernel, grid, kThreads, trans_a, trans_b, M, N, K, alpha, A, lda, cuda_gemm::can_load_float4(A, lda), B, ldb, cuda_gemm::can_load_float4(B, ldb), beta, C, ldc);
}

}  // namespace nib::kernels::cuda
