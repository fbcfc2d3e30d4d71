#include "optim/sgd.h"

#include "kernels/registry.h"

namespace nib::optim {

namespace {
using namespace kernels;

const ImplTable<SgdStepFn> sgd_impls("optim", {
    {"reference", DeviceType::CPU, reference::sgd_step},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::sgd_step},
#endif
});
}  // namespace

SGD::SGD(std::vector<Tensor> params, SgdOptions options)
    // Momentum keeps one buffer per parameter; plain SGD keeps none.
    : Optimizer(options.momentum != 0.0f ? std::vector<std::string>{"momentum_buffer"} : std::vector<std::string>{}),
      options_(options) {
  NIB_CHECK(options.momentum >= 0.0f, "SGD: momentum must be >= 0, got ", options.momentum);
  NIB_CHECK(!options.nesterov || (options.momentum > 0.0f && options.dampening == 0.0f),
            "SGD: Nesterov momentum needs momentum > 0 and dampening = 0 (got momentum ", options.momentum,
            ", dampening ", options.dampening, ")");
  add_param_group({std::move(params), options.lr, options.weight_decay});
}

std::string SGD::describe() const {
  return str("SGD(lr=", lr(), ", momentum=", options_.momentum, ", dampening=", options_.dampening,
             ", weight_decay=", options_.weight_decay, options_.nesterov ? ", nesterov" : "", ")");
}

void SGD::update(const ParamGroup& group, const Batch& batch) {
  SgdParams h;
  h.lr = group.lr;
  h.momentum = options_.momentum;
  h.dampening = options_.dampening;
  h.weight_decay = group.weight_decay;
  h.nesterov = options_.nesterov;
  h.first_step = batch.steps_before == 0;
  sgd_impls.pick(batch.device, batch.slots.size(), " tensors")(batch.slots, h);
}

}  // namespace nib::optim
