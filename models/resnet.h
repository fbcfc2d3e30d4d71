// ResNet-18 (He et al., 2015) exactly as torchvision builds it:
//
//   conv1 (7x7 stride 2) -> bn1 -> relu -> maxpool (3x3 stride 2)
//   layer1..layer4      two BasicBlocks each: conv3x3 -> bn -> relu -> conv3x3 -> bn,
//                       plus the input (through downsample.{0: conv1x1, 1: bn}
//                       when the stride or channel count changes), then relu
//   avgpool -> fc       global average pool, Linear 512 -> classes
#pragma once

#include "layers/sequential.h"
#include "models/torchvision_common.h"

namespace nib::models {

class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride, PaddingStyle padding);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  ModulePtr conv1, bn1, relu, conv2, bn2;
  std::shared_ptr<Sequential> downsample;  // null when the shapes already match
};

class ResNet18 : public Module {
 public:
  explicit ResNet18(const TorchvisionConfig& config);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ResNet18"; }

  TorchvisionConfig config;
  ModulePtr conv1, bn1, relu, maxpool, avgpool, fc;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
};

}  // namespace nib::models
