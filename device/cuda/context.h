// What CUDA code in nib shares: the stream every kernel runs on, the cuBLAS
// and cuDNN handles bound to it, device properties, error checking that
// names the file, line and the library's own error text, and scratch
// workspaces from the caching allocator.
//
// Only CUDA sources (.cu, *_cublas.cpp, *_cudnn.cpp) include this header; the
// rest of nib sees device/cuda/runtime.h, which has no CUDA types.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#ifdef NIB_CUBLAS
#include <cublas_v2.h>
#endif

#ifdef NIB_CUDNN
#include <cudnn.h>
#endif

#include "device/cuda/runtime.h"

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

// Errors a kernel finds in its input (cross_entropy's labels). A kernel
// cannot throw, and copying the input to the host to check it there would
// make every call wait for all the work queued before it. Instead the kernel
// records the first offending item in a DeviceErrorReport, and the host
// looks at the report where it waits for the GPU anyway: cuda::copy to the
// host (loss.item(), to_vector) and cuda::synchronize, which then throw the
// op's own message. The check costs no synchronisation of its own; the
// error surfaces at the first wait after the call that caused it.
class DeviceErrorReport {
 public:
  // What a kernel records (record_device_error in device/cuda/launch.cuh):
  // the position and value of the lowest offending item, packed so that one
  // atomicMin keeps them together, and the bound it broke. No error: all ones.
  struct Slot {
    unsigned long long position_and_value;
    long long bound;
  };
  using Describe = std::string (*)(long long position, int value, long long bound);

  // describe writes the message, e.g. "cross_entropy: label 12 at position 3 is outside [0, 10)".
  explicit DeviceErrorReport(Describe describe);
  DeviceErrorReport(const DeviceErrorReport&) = delete;
  DeviceErrorReport& operator=(const DeviceErrorReport&) = delete;

  // The slot for a kernel about to be queued; the report is then looked at
  // by the next wait (check_device_errors).
  Slot* arm();
  // The described error if a kernel recorded one since the last look (the
  // slot is then cleared), else "". The stream must be idle.
  std::string take_error();

 private:
  friend void check_device_errors();
  Describe describe_;
  Slot* slot_ = nullptr;  // device memory, allocated at the first arm()
  bool armed_ = false;
};

// Looks at every report armed since the last look and throws nib::Error
// with the first error found; cuda::copy to the host and cuda::synchronize
// call it once the stream is idle.
void check_device_errors();

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
