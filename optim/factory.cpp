#include "optim/factory.h"

#include "optim/adam.h"
#include "optim/sgd.h"

namespace nib::optim {

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, float lr,
                                          float momentum, float weight_decay) {
  if (name == "sgd") return std::make_unique<SGD>(std::move(params), SgdOptions{lr, momentum, 0.0f, weight_decay, false});
  AdamOptions options;
  options.lr = lr;
  options.weight_decay = weight_decay;
  if (name == "adam") return std::make_unique<Adam>(std::move(params), options);
  if (name == "adamw") return std::make_unique<AdamW>(std::move(params), options);
  fail("unknown optimizer '", name, "' (expected adam, adamw or sgd)");
}

}  // namespace nib::optim
