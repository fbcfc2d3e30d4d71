// VGG16 (Simonyan & Zisserman, 2014) exactly as torchvision builds it, so its
// checkpoints load by name:
//
//   features.{0..30}   13 conv3x3 + ReLU layers in 5 stages, each stage ending in a 2x2 max pool
//   avgpool            adaptive average pool to 7x7 (any input size >= 32 works)
//   classifier.{0..6}  Linear 25088->4096, ReLU, Dropout, Linear 4096->4096, ReLU, Dropout, Linear ->classes
//
// With features_only the classifier is left out and forward returns the
// conv5 feature map [N, 512, H/32, W/32].
#pragma once

#include "layers/sequential.h"
#include "models/torchvision_common.h"

namespace nib::models {

class Vgg16 : public Module {
 public:
  explicit Vgg16(const TorchvisionConfig& config);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "VGG16"; }

  TorchvisionConfig config;
  std::shared_ptr<Sequential> features;
  ModulePtr avgpool;
  std::shared_ptr<Sequential> classifier;  // null with features_only
};

}  // namespace nib::models
