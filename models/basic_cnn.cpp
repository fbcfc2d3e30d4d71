#include "models/basic_cnn.h"

#include "layers/layers.h"

namespace nib::models {

std::shared_ptr<Sequential> basic_cnn(const BasicCnnConfig& c) {
  int64_t pad = c.same_padding ? c.kernel / 2 : 0;
  // Spatial size after one conv (stride 1) and one 2x2 max pool.
  auto after_block = [&](int64_t size) { return (size + 2 * pad - c.kernel + 1) / 2; };
  int64_t size = after_block(after_block(c.image_size));
  NIB_CHECK(size >= 1, "basic-cnn: a ", c.image_size, "x", c.image_size, " input is too small for two ", c.kernel,
            "x", c.kernel, " convolutions and two 2x2 poolings");

  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(c.in_channels, c.conv1_channels, c.kernel, 1, pad));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Conv2d>(c.conv1_channels, c.conv2_channels, c.kernel, 1, pad));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Linear>(c.conv2_channels * size * size, c.hidden));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<Dropout>(c.dropout));
  net->add(std::make_shared<Linear>(c.hidden, c.classes));
  return net;
}

}  // namespace nib::models
