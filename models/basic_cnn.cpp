#include "models/basic_cnn.h"

#include "layers/layers.h"

namespace nib::models {

namespace {

// Spatial size before the dense layer: each block is a conv (stride 1) and a 2x2 max pool.
int64_t dense_side(const BasicCnnConfig& c) {
  const int64_t pad = c.same_padding ? c.kernel / 2 : 0;
  int64_t size = c.image_size;
  for (int64_t b = 0; b < c.blocks; ++b) size = (size + 2 * pad - c.kernel + 1) / 2;
  return size;
}

}  // namespace

int64_t basic_cnn_blocks_for(BasicCnnConfig c, int64_t max_side) {
  c.blocks = 2;
  while (dense_side(c) > max_side) {
    ++c.blocks;
    if (dense_side(c) < 1) return c.blocks - 1;  // the input is too small for another block
  }
  return c.blocks;
}

std::shared_ptr<Sequential> basic_cnn(const BasicCnnConfig& c) {
  const int64_t pad = c.same_padding ? c.kernel / 2 : 0;
  NIB_CHECK(c.blocks >= 2, "basic-cnn: blocks must be at least 2, got ", c.blocks);
  const int64_t size = dense_side(c);
  NIB_CHECK(size >= 1, "basic-cnn: a ", c.image_size, "x", c.image_size, " input is too small for ", c.blocks, " ",
            c.kernel, "x", c.kernel, " convolutions and 2x2 poolings");

  auto net = std::make_shared<Sequential>();
  int64_t channels = c.in_channels;
  for (int64_t b = 0; b < c.blocks; ++b) {
    const int64_t out = b == 0 ? c.conv1_channels : c.conv2_channels;
    net->add(std::make_shared<Conv2d>(channels, out, c.kernel, 1, pad));
    net->add(std::make_shared<ReLU>());
    net->add(std::make_shared<MaxPool2d>(2));
    channels = out;
  }
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Linear>(c.conv2_channels * size * size, c.hidden));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<Dropout>(c.dropout));
  net->add(std::make_shared<Linear>(c.hidden, c.classes));
  return net;
}

}  // namespace nib::models
