#include "optim/adam.h"

#include "kernels/registry.h"

namespace nib::optim {

namespace {
using namespace kernels;

const ImplTable<AdamStepFn> adam_impls("optim", {
    {"reference", DeviceType::CPU, reference::adam_step},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::adam_step},
#endif
});
}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Optimizer({"exp_avg", "exp_avg_sq"}), options_(options) {
  auto in_unit = [](float beta) { return beta >= 0.0f && beta < 1.0f; };
  NIB_CHECK(in_unit(options.beta1) && in_unit(options.beta2), "Adam: betas must be in [0, 1), got ", options.beta1,
            " and ", options.beta2);
  NIB_CHECK(options.eps >= 0.0f, "Adam: eps must be >= 0, got ", options.eps);
  add_param_group({std::move(params), options.lr, options.weight_decay});
}

std::string Adam::describe() const {
  return str(options_.decoupled ? "AdamW" : "Adam", "(lr=", lr(), ", betas=(", options_.beta1, ", ", options_.beta2,
             "), eps=", options_.eps, ", weight_decay=", options_.weight_decay, ")");
}

void Adam::update(const ParamGroup& group, const Batch& batch) {
  AdamParams h;
  h.lr = group.lr;
  h.beta1 = options_.beta1;
  h.beta2 = options_.beta2;
  h.eps = options_.eps;
  h.weight_decay = group.weight_decay;
  h.decoupled = options_.decoupled;
  h.step = batch.steps_before + 1;
  adam_impls.pick(batch.device, batch.slots.size(), " tensors")(batch.slots, h);
}

}  // namespace nib::optim
