// What CUDA code in nib shares: the stream every kernel runs on, the cuBLAS
// and cuDNN handles bound to it, device properties, error checking that
// names the file, line and the library's own error text, and scratch
// workspaces from the caching allocator.
//
// Only CUDA sources (.cu, *_cublas.cpp, *_cudnn.cpp) include this header; the
// rest of nib sees tensor/cuda/runtime.h, which has no CUDA types.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#ifdef NIB_CUBLAS
#include <cublas_v2.h>
#endif

#ifdef NIB_CUDNN
#include <cudnn.h>
#endif

#include "tensor/cuda/runtime.h"

namespace nib::cuda {

// One stream per device: nib's ops run in order on it, so no op needs to
// synchronise with another; only copies to the host wait for it.
cudaStream_t stream();
#ifdef NIB_CUBLAS
cublasHandle_t cublas();
#endif
#ifdef NIB_CUDNN
cudnnHandle_t cudnn();
#endif
const cudaDeviceProp& properties();

// Throw nib::Error("<what> failed at file:line: <expr>: <library message>").
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
#ifdef NIB_CUBLAS
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line);
#endif
#ifdef NIB_CUDNN
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* expr, const char* file, int line);
#endif

// A scratch buffer (im2col columns, cuDNN workspace) that returns to the
// caching allocator when it goes out of scope.
class Workspace {
 public:
  explicit Workspace(size_t bytes) : bytes_(bytes), data_(bytes ? allocate(bytes) : nullptr) {}
  ~Workspace() {
    if (data_) release(data_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* data() const { return data_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  void* data_;
};

// Blocks of `threads` covering n items.
inline unsigned blocks_for(long long n, unsigned threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace nib::cuda

#define NIB_CUDA_CHECK(expr)                                                           \
  do {                                                                                 \
    cudaError_t nib_err_ = (expr);                                                     \
    if (nib_err_ != cudaSuccess) ::nib::cuda::throw_cuda_error(nib_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: catches bad launch configurations immediately.
#define NIB_CUDA_CHECK_LAUNCH() NIB_CUDA_CHECK(cudaGetLastError())

#ifdef NIB_CUBLAS
#define NIB_CUBLAS_CHECK(expr)                                                              \
  do {                                                                                      \
    cublasStatus_t nib_status_ = (expr);                                                    \
    if (nib_status_ != CUBLAS_STATUS_SUCCESS)                                               \
      ::nib::cuda::throw_cublas_error(nib_status_, #expr, __FILE__, __LINE__);              \
  } while (0)
#endif

#ifdef NIB_CUDNN
#define NIB_CUDNN_CHECK(expr)                                                               \
  do {                                                                                      \
    cudnnStatus_t nib_status_ = (expr);                                                     \
    if (nib_status_ != CUDNN_STATUS_SUCCESS)                                                \
      ::nib::cuda::throw_cudnn_error(nib_status_, #expr, __FILE__, __LINE__);               \
  } while (0)
#endif
