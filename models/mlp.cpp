#include "models/mlp.h"

#include "layers/layers.h"

namespace nib::models {

std::shared_ptr<Sequential> mlp(const MlpConfig& config) {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Flatten>());
  int64_t width = config.inputs;
  for (int64_t h : config.hidden) {
    net->add(std::make_shared<Linear>(width, h));
    net->add(std::make_shared<ReLU>());
    if (config.dropout > 0.0f) net->add(std::make_shared<Dropout>(config.dropout));
    width = h;
  }
  net->add(std::make_shared<Linear>(width, config.classes));
  return net;
}

}  // namespace nib::models
