// NCCL all-reduce of CUDA buffers (distributed/nccl.h). The real thing needs
// the CUDA build with NCCL found; the CPU build and the CUDA-on-CPU test
// build (NIB_CUDA_ON_CPU, no NCCL for the host) get the stubs at the end.
#include "distributed/nccl.h"

#include "util/error.h"

#if defined(NIB_CUDA) && defined(NIB_HAVE_NCCL) && !defined(NIB_CUDA_ON_CPU)

#include <nccl.h>

#include "device/cuda/context.h"
#include "distributed/wait.h"

namespace nib::distributed {

namespace {

[[noreturn]] void throw_nccl_error(ncclResult_t result, ncclComm_t comm, const char* expr) {
  std::string detail = comm ? ncclGetLastError(comm) : "";
  fail("NCCL call failed: ", expr, ": ", ncclGetErrorString(result), detail.empty() ? "" : " (" + detail + ")");
}

class NcclReducer final : public GpuReducer {
 public:
  NcclReducer(Communicator& host, double timeout_seconds) : timeout_(timeout_seconds) {
    ncclUniqueId id{};
    if (host.is_root()) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof id);
    // Non-blocking, so that a rank that never arrives is a timeout here, not a hang.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    check(ncclCommInitRankConfig(&comm_, host.size(), id, host.rank(), &config), "ncclCommInitRankConfig");
    settle("ncclCommInitRankConfig");
  }

  void weighted_sum(const Tensor& flat, float weight) override {
    NIB_CHECK(flat.device().is_cuda() && flat.dtype() == DType::F32, "NCCL weighted_sum: expected a float32 CUDA "
              "tensor, got ", dtype_name(flat.dtype()), " on ", flat.device().name());
    // PreMulSum: each rank's buffer is multiplied by its own weight as NCCL
    // adds them up, so the weighted average takes no extra kernel.
    ncclRedOp_t op;
    check(ncclRedOpCreatePreMulSum(&op, &weight, ncclFloat, ncclScalarHostImmediate, comm_),
          "ncclRedOpCreatePreMulSum");
    check(ncclAllReduce(flat.data(), flat.data(), static_cast<size_t>(flat.numel()), ncclFloat, op, comm_,
                        cuda::stream()),
          "ncclAllReduce");
    settle("ncclAllReduce");
    cudaStream_t stream = cuda::stream();
    try {
      wait_for_ranks(
          [&] {
            ncclResult_t state = ncclSuccess;
            check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
            if (state != ncclSuccess && state != ncclInProgress) throw_nccl_error(state, comm_, "ncclAllReduce");
            cudaError_t query = cudaStreamQuery(stream);
            if (query == cudaErrorNotReady) return false;
            NIB_CUDA_CHECK(query);
            return true;
          },
          timeout_, "the gradient all-reduce (NCCL)");
    } catch (...) {
      ncclCommAbort(comm_);  // frees this rank from the collective it is stuck in
      comm_ = nullptr;
      throw;
    }
    check(ncclRedOpDestroy(op, comm_), "ncclRedOpDestroy");
  }

 private:
  void check(ncclResult_t result, const char* expr) {
    if (result != ncclSuccess && result != ncclInProgress) throw_nccl_error(result, comm_, expr);
  }
  // A non-blocking communicator may answer ncclInProgress: wait until the call has gone through.
  void settle(const char* what) {
    wait_for_ranks(
        [&] {
          ncclResult_t state = ncclSuccess;
          ncclCommGetAsyncError(comm_, &state);
          if (state == ncclInProgress) return false;
          if (state != ncclSuccess) throw_nccl_error(state, comm_, what);
          return true;
        },
        timeout_, what);
  }

  ncclComm_t comm_ = nullptr;  // never destroyed: as the CUDA handles (device/cuda/context.cpp), it lives until exit
  double timeout_;
};

}  // namespace

bool built_with_nccl() { return true; }

std::string nccl_version() {
  int version = 0;
  ncclGetVersion(&version);
  return str("NCCL ", version / 10000, ".", version / 100 % 100, ".", version % 100);
}

void use_gpu_of_local_rank(int local_rank, int local_size) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return;  // no usable GPU: require_device() explains why
  }
  NIB_CHECK(local_size <= count, local_size, " ranks run on this machine but it has ", count,
            " GPU(s); start one rank per GPU (mpirun -np, or slots= in the host file)");
  NIB_CUDA_CHECK(cudaSetDevice(local_rank));
}

std::unique_ptr<GpuReducer> start_nccl(Communicator& host, double timeout_seconds) {
  return std::make_unique<NcclReducer>(host, timeout_seconds);
}

}  // namespace nib::distributed

#else  // without NCCL

namespace nib::distributed {

bool built_with_nccl() { return false; }
std::string nccl_version() { return ""; }
void use_gpu_of_local_rank(int, int) {}
std::unique_ptr<GpuReducer> start_nccl(Communicator&, double) {
  fail("this nib was built without NCCL, which CUDA tensors need to be added up across ranks");
}

}  // namespace nib::distributed

#endif
