// NCCL: sums of CUDA buffers across ranks, one GPU per rank, as PyTorch's
// DDP and Horovod do on GPUs. The NCCL communicator is bootstrapped through
// the host communicator (MPI): rank 0 makes an ncclUniqueId and broadcasts it.
//
// Built only with CUDA and NCCL found (CMake's NIB_HAVE_NCCL); otherwise the
// functions here say so. NCCL comes with the CUDA toolkit or as pip's
// nvidia-nccl-cu13 (docs/distributed.md).
#pragma once

#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace nib::distributed {

bool built_with_nccl();
// "NCCL 2.28.9", or "" without NCCL.
std::string nccl_version();

// Makes this process use GPU `local_rank` of its machine; call before any
// CUDA work. Throws when the machine has fewer GPUs than ranks on it.
void use_gpu_of_local_rank(int local_rank, int local_size);

class GpuReducer {
 public:
  virtual ~GpuReducer() = default;
  // Communicator::weighted_sum for a float32 buffer on this rank's GPU.
  virtual void weighted_sum(const Tensor& flat, float weight) = 0;
};

// Every rank calls it at the same point. Waits at most `timeout_seconds` for
// the others, like every collective (distributed/wait.h).
std::unique_ptr<GpuReducer> start_nccl(Communicator& host, double timeout_seconds);

}  // namespace nib::distributed
