// WMMA (nvcuda::wmma, the warp-level matrix API) on the host, for the TF32
// GEMM in the CUDA-on-CPU build (see cuda_on_cpu.h).
//
// On the GPU a fragment is spread over the 32 lanes of a warp in an
// unspecified layout; here every lane holds the whole tile, so each lane
// computes the same product the warp computes together. What the kernel can
// observe is the same: load/store with the documented layouts and leading
// dimension `ldm` (row_major: element (r, c) at ptr[r * ldm + c]; col_major:
// at ptr[c * ldm + r]), and D = A * B + C with A and B already in TF32.
//
// The GPU's tensor cores add the products of one m16n16k8 step in an
// unspecified order at FP32 or better; here they are added one by one in k
// order with FP32 fused multiply-adds, so the last bits may differ from a GPU
// (the tests compare TF32 results with a tolerance).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "device/cuda/on_cpu/cuda_on_cpu.h"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

// Rows and columns of the tile a fragment holds.
template <class Use, int M, int N, int K>
struct TileShape;
template <int M, int N, int K>
struct TileShape<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct TileShape<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct TileShape<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static constexpr int rows = TileShape<Use, M, N, K>::rows, cols = TileShape<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols;
  float x[rows * cols];  // row-major (r, c) at x[r * cols + c], whatever the memory layout
};

// Round to nearest, ties away from zero, keeping 10 mantissa bits (what
// cvt.rna.tf32.f32 does); NaN and infinity pass unchanged.
inline float __float_to_tf32(float f) {
  if (!std::isfinite(f)) return f;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits = (bits + 0x1000u) & 0xffffe000u;
  std::memcpy(&f, &bits, sizeof bits);
  return f;
}

template <class Use, int M, int N, int K, class T, class Layout>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& frag, float value) {
  for (float& v : frag.x) v = value;
}

template <class Frag>
void load_tile(Frag& frag, const float* ptr, unsigned ldm, bool row_major_memory) {
  for (int r = 0; r < Frag::rows; ++r)
    for (int c = 0; c < Frag::cols; ++c)
      frag.x[r * Frag::cols + c] = row_major_memory ? ptr[r * ldm + c] : ptr[c * ldm + r];
}

// The _sync calls are warp-collective: every lane of the warp arrives before
// any goes on. Each lane then reads or writes the whole tile itself.
template <class Use, int M, int N, int K, class T>
void load_matrix_sync(fragment<Use, M, N, K, T, row_major>& frag, const float* ptr, unsigned ldm) {
  __syncwarp();
  load_tile(frag, ptr, ldm, true);
}
template <class Use, int M, int N, int K, class T>
void load_matrix_sync(fragment<Use, M, N, K, T, col_major>& frag, const float* ptr, unsigned ldm) {
  __syncwarp();
  load_tile(frag, ptr, ldm, false);
}

template <int M, int N, int K>
void store_matrix_sync(float* ptr, const fragment<accumulator, M, N, K, float>& frag, unsigned ldm, layout_t layout) {
  __syncwarp();
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) {
      float* dst = layout == mem_row_major ? ptr + r * ldm + c : ptr + c * ldm + r;
      *dst = frag.x[r * N + c];
    }
}

template <int M, int N, int K, class LayoutA, class LayoutB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, precision::tf32, LayoutA>& a,
              const fragment<matrix_b, M, N, K, precision::tf32, LayoutB>& b,
              const fragment<accumulator, M, N, K, float>& c) {
  fragment<accumulator, M, N, K, float> result;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = c.x[i * N + j];
      for (int k = 0; k < K; ++k) acc = std::fma(a.x[i * K + k], b.x[k * N + j], acc);
      result.x[i * N + j] = acc;
    }
  d = result;
}

}  // namespace nvcuda::wmma
