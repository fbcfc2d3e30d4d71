// Reference optimizer updates: PyTorch's formulas (torch.optim.SGD, Adam,
// AdamW, single-tensor path), one element at a time, bit-exact with torch
// 1.13 on the CPU. The per-element arithmetic, and how it rounds where torch
// rounds, is kernels/optim_update.h, shared with the CUDA kernel.
#include "kernels/optim.h"
#include "kernels/optim_update.h"

namespace nib::kernels::reference {

void sgd_step(const std::vector<ParamSlot>& slots, const SgdParams& h) {
  const SgdScalars k = sgd_scalars(h);
  for (const ParamSlot& s : slots)
    for (int64_t i = 0; i < s.n; ++i)
      s.param[i] = sgd_update(h, k, s.param[i], s.grad[i], h.momentum != 0.0f ? s.state1 + i : nullptr);
}

void adam_step(const std::vector<ParamSlot>& slots, const AdamParams& h) {
  const AdamScalars k = adam_scalars(h);
  for (const ParamSlot& s : slots)
    for (int64_t i = 0; i < s.n; ++i)
      s.param[i] = adam_update(h, k, s.param[i], s.grad[i], s.state1 + i, s.state2 + i);
}

}  // namespace nib::kernels::reference
