// The CUDA context: nib's one stream, the library handles bound to it, the
// device properties, and the error functions behind NIB_CUDA_CHECK & co.
//
// Everything is created on first use (so a CPU-only run never touches the
// driver) and deliberately never destroyed: the CUDA runtime tears itself
// down at process exit in an unspecified order relative to C++ static
// destructors, and destroying a stream or handle after that crashes.
#include "device/cuda/context.h"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/error.h"

namespace nib::cuda {

cudaStream_t stream() {
  // A blocking stream (not cudaStreamNonBlocking): it still synchronises with
  // the legacy default stream, so a stray cudaMemset without a stream
  // argument cannot race with nib's kernels.
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    NIB_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamDefault));
    return created;
  }();
  return s;
}

#ifdef NIB_CUBLAS
cublasHandle_t cublas() {
  // The math mode stays CUBLAS_DEFAULT_MATH (full FP32); the library GEMM
  // turns TF32 on per call when kernels::allow_tf32() asks for it.
  static cublasHandle_t handle = [] {
    cublasHandle_t created = nullptr;
    NIB_CUBLAS_CHECK(cublasCreate(&created));
    NIB_CUBLAS_CHECK(cublasSetStream(created, stream()));
    return created;
  }();
  return handle;
}
#endif

#ifdef NIB_CUDNN
cudnnHandle_t cudnn() {
  static cudnnHandle_t handle = [] {
    cudnnHandle_t created = nullptr;
    NIB_CUDNN_CHECK(cudnnCreate(&created));
    NIB_CUDNN_CHECK(cudnnSetStream(created, stream()));
    return created;
  }();
  return handle;
}
#endif

const cudaDeviceProp& properties() {
  static cudaDeviceProp props = [] {
    cudaDeviceProp p{};
    int device = 0;
    NIB_CUDA_CHECK(cudaGetDevice(&device));
    NIB_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    return p;
  }();
  return props;
}

namespace {

// The reports armed since the last check_device_errors. Reports are static
// objects of the ops that own them, never destroyed before exit.
std::mutex& armed_mutex() {
  static auto* m = new std::mutex;
  return *m;
}
std::vector<DeviceErrorReport*>& armed_reports() {
  static auto* reports = new std::vector<DeviceErrorReport*>;
  return *reports;
}

constexpr unsigned long long kNoDeviceError = ~0ull;

}  // namespace

DeviceErrorReport::DeviceErrorReport(Describe describe) : describe_(describe) {}

DeviceErrorReport::Slot* DeviceErrorReport::arm() {
  std::lock_guard<std::mutex> lock(armed_mutex());
  if (!slot_) {
    slot_ = static_cast<Slot*>(allocate(sizeof(Slot)));
    NIB_CUDA_CHECK(cudaMemsetAsync(slot_, 0xff, sizeof(Slot), stream()));  // all ones: no error
  }
  if (!armed_) {
    armed_ = true;
    armed_reports().push_back(this);
  }
  return slot_;
}

std::string DeviceErrorReport::take_error() {
  if (!slot_) return "";
  Slot found{};
  NIB_CUDA_CHECK(cudaMemcpyAsync(&found, slot_, sizeof(Slot), cudaMemcpyDeviceToHost, stream()));
  NIB_CUDA_CHECK(cudaStreamSynchronize(stream()));  // idle already: a 16-byte copy, no wait for other work
  if (found.position_and_value == kNoDeviceError) return "";
  // Cleared for the next error (all ones: the 0xff bytes of the memset).
  NIB_CUDA_CHECK(cudaMemsetAsync(slot_, 0xff, sizeof(found.position_and_value), stream()));
  const long long position = static_cast<long long>(found.position_and_value >> 32);
  const int value = static_cast<int>(static_cast<unsigned>(found.position_and_value & 0xffffffffull));
  return describe_(position, value, found.bound);
}

void check_device_errors() {
  std::vector<DeviceErrorReport*> reports;
  {
    std::lock_guard<std::mutex> lock(armed_mutex());
    if (armed_reports().empty()) return;  // the common case: nothing to look at
    reports.swap(armed_reports());
    for (DeviceErrorReport* r : reports) r->armed_ = false;
  }
  // Every report is looked at (and cleared) before the first error is thrown.
  std::string first_error;
  for (DeviceErrorReport* r : reports) {
    std::string error = r->take_error();
    if (first_error.empty()) first_error = std::move(error);
  }
  if (!first_error.empty()) fail(first_error);
}

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  // Clear the error so that the next check does not report it again (sticky
  // errors such as an illegal address stay; nothing can be done about those).
  cudaGetLastError();
  fail("CUDA call failed at ", file, ":", line, ": ", expr, ": ", cudaGetErrorString(err), " (",
       cudaGetErrorName(err), ")");
}

#ifdef NIB_CUBLAS
void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  fail("cuBLAS call failed at ", file, ":", line, ": ", expr, ": ", cublasGetStatusString(status), " (",
       cublasGetStatusName(status), ")");
}
#endif

#ifdef NIB_CUDNN
void throw_cudnn_error(cudnnStatus_t status, const char* expr, const char* file, int line) {
  fail("cuDNN call failed at ", file, ":", line, ": ", expr, ": ", cudnnGetErrorString(status));
}
#endif

}  // namespace nib::cuda
