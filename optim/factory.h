// Optimizers by name, for the command line: "adam", "adamw", "sgd".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace nib::optim {

// SGD uses `momentum` (Nesterov off); Adam/AdamW the usual betas. Errors name the valid choices.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, float lr,
                                          float momentum, float weight_decay);

}  // namespace nib::optim
