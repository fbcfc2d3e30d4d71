// The multilayer perceptron of the seed README: 784-512-512-10 with ReLU and
// dropout 0.2 after each hidden layer. Hidden widths are configurable.
#pragma once

#include <vector>

#include "layers/sequential.h"

namespace nib::models {

struct MlpConfig {
  int64_t inputs = 784;
  std::vector<int64_t> hidden = {512, 512};
  int64_t classes = 10;
  float dropout = 0.2f;
};

// Flatten, then [Linear, ReLU, Dropout] per hidden layer, then Linear.
std::shared_ptr<Sequential> mlp(const MlpConfig& config);

}  // namespace nib::models
