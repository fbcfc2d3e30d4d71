// SGD and Adam steps on CUDA as a multi-tensor apply. The spec is
// kernels/cpu/optim_reference.cpp; the per-element formula is shared with it
// (kernels/optim_update.h), so the two give bit-identical parameters.
//
// Better than one launch per parameter tensor: a model has dozens to
// hundreds of tensors, many tiny (biases, BN scales), and each launch costs
// microseconds of CPU time while the GPU idles. Here up to kSlotsPerLaunch
// tensors go into one launch; their pointers and sizes travel in the kernel's
// parameter block (a 4 KiB limit), so there is no host-to-device copy of a
// pointer table and nothing to synchronise. Each block walks the tensors in
// turn with a grid-stride loop over the elements of each; a finer split
// (blocks assigned to chunks of tensors) would balance better when sizes
// vary wildly. Speed: to be measured in bench/.
#include <vector>

#include "device/cuda/launch.cuh"
#include "kernels/optim.h"
#include "kernels/optim_update.h"
#include "util/error.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

constexpr int kSlotsPerLaunch = 64;

struct SlotChunk {
  ParamSlot slots[kSlotsPerLaunch];
  int count = 0;
};
// Kernel parameters are limited to 4 KiB (before CUDA 12.1 / Volta); stay well below.
static_assert(sizeof(SlotChunk) + sizeof(AdamParams) + sizeof(AdamScalars) < 3800, "kernel parameters too large");

// __grid_constant__: the kernel reads the slots straight from its parameter
// block, instead of each thread copying 2.5 KiB into local memory to index it.
__global__ void sgd_kernel(const __grid_constant__ SlotChunk chunk, SgdParams o, SgdScalars k) {
  for (int s = 0; s < chunk.count; ++s) {
    const ParamSlot& slot = chunk.slots[s];
    for (int64_t i = grid_start(); i < slot.n; i += grid_stride()) {
      float* buf = slot.state1 ? slot.state1 + i : nullptr;
      slot.param[i] = sgd_update(o, k, slot.param[i], slot.grad[i], buf);
    }
  }
}

__global__ void adam_kernel(const __grid_constant__ SlotChunk chunk, AdamParams o, AdamScalars k) {
  for (int s = 0; s < chunk.count; ++s) {
    const ParamSlot& slot = chunk.slots[s];
    for (int64_t i = grid_start(); i < slot.n; i += grid_stride())
      slot.param[i] = adam_update(o, k, slot.param[i], slot.grad[i], slot.state1 + i, slot.state2 + i);
  }
}

// Calls launch(chunk, largest n in it) for consecutive groups of non-empty slots.
template <class Launch>
void for_each_chunk(const std::vector<ParamSlot>& slots, Launch launch) {
  SlotChunk chunk;
  int64_t largest = 0;
  for (const ParamSlot& slot : slots) {
    if (slot.n <= 0) continue;
    chunk.slots[chunk.count++] = slot;
    largest = std::max(largest, slot.n);
    if (chunk.count == kSlotsPerLaunch) {
      launch(chunk, largest);
      chunk.count = 0;
      largest = 0;
    }
  }
  if (chunk.count > 0) launch(chunk, largest);
}

}  // namespace

void sgd_step(const std::vector<ParamSlot>& slots, const SgdParams& params) {
  if (params.momentum != 0.0f)
    for (const ParamSlot& slot : slots)
      NIB_CHECK(slot.n <= 0 || slot.state1 != nullptr, "sgd_step (cuda): momentum needs a buffer in every slot");
  const SgdScalars k = sgd_scalars(params);
  for_each_chunk(slots, [&](const SlotChunk& chunk, int64_t largest) {
    cuda_detail::launch(sgd_kernel, grid_for(largest), kThreads, chunk, params, k);
  });
}

void adam_step(const std::vector<ParamSlot>& slots, const AdamParams& params) {
  for (const ParamSlot& slot : slots)
    NIB_CHECK(slot.n <= 0 || (slot.state1 != nullptr && slot.state2 != nullptr),
              "adam_step (cuda): every slot needs both moment buffers");
  AdamScalars k = adam_scalars(params);
  for_each_chunk(slots, [&](const SlotChunk& chunk, int64_t largest) {
    cuda_detail::launch(adam_kernel, grid_for(largest), kThreads, chunk, params, k);
  });
}

}  // namespace nib::kernels::cuda
