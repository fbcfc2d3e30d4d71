// MobileNetV2 (Sandler et al., 2018) exactly as torchvision builds it:
//
//   features.0         conv3x3 stride 2 -> BN -> ReLU6           (features.0.{0,1})
//   features.1..17     inverted residual blocks: 1x1 expand -> BN -> ReLU6 ->
//                      3x3 depthwise -> BN -> ReLU6 -> 1x1 project -> BN,
//                      plus the input when stride is 1 and channels match
//                      (block.conv.{0.0, 0.1, 1.0, 1.1, 2, 3}; without expansion conv.{0.0, 0.1, 1, 2})
//   features.18        conv1x1 -> 1280 channels -> BN -> ReLU6
//   avgpool            global average pool (no parameters; named so it can be extracted)
//   classifier.{0,1}   Dropout(0.2), Linear 1280 -> classes
//
// The depthwise convolutions are where MobileNetV2 spends its memory traffic;
// see kernels/cpu/conv2d_fast.cpp and kernels/cuda/conv2d_depthwise.cu.
#pragma once

#include "layers/sequential.h"
#include "models/torchvision_common.h"

namespace nib::models {

class InvertedResidual : public Module {
 public:
  InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio, PaddingStyle padding);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  std::shared_ptr<Sequential> conv;
  bool use_residual;
  int64_t in, out, stride, expand_ratio;
};

class MobileNetV2 : public Module {
 public:
  explicit MobileNetV2(const TorchvisionConfig& config);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "MobileNetV2"; }

  TorchvisionConfig config;
  std::shared_ptr<Sequential> features;
  ModulePtr avgpool;
  std::shared_ptr<Sequential> classifier;  // null with features_only
  int64_t last_channels;
};

// torchvision's _make_divisible: channels rounded to a multiple of 8, never
// dropping more than 10%.
int64_t make_divisible(double value, int64_t divisor = 8);

}  // namespace nib::models
