#include "models/resnet.h"

#include "layers/layers.h"

namespace nib::models {

BasicBlock::BasicBlock(int64_t in, int64_t out, int64_t stride, PaddingStyle padding) {
  conv1 = register_module("conv1", make_conv(in, out, 3, stride, 1, /*bias=*/false, padding));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(out));
  relu = register_module("relu", std::make_shared<ReLU>());
  conv2 = register_module("conv2", make_conv(out, out, 3, 1, 1, /*bias=*/false, padding));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(out));
  if (stride != 1 || in != out) {
    downsample = register_module("downsample", std::make_shared<Sequential>());
    downsample->add(make_conv(in, out, 1, stride, 1, /*bias=*/false, padding));
    downsample->add(std::make_shared<BatchNorm2d>(out));
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor y = (*bn2)((*conv2)((*relu)((*bn1)((*conv1)(x)))));
  Tensor shortcut = downsample ? (*downsample)(x) : x;
  return (*relu)(y + shortcut);
}

std::string BasicBlock::describe() const { return downsample ? "BasicBlock(downsample)" : "BasicBlock()"; }

ResNet18::ResNet18(const TorchvisionConfig& c) : config(c) {
  auto width = [&](int64_t channels) { return std::max<int64_t>(1, static_cast<int64_t>(channels * c.width)); };
  conv1 = register_module("conv1", make_conv(3, width(64), 7, 2, 1, /*bias=*/false, c.padding));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(width(64)));
  relu = register_module("relu", std::make_shared<ReLU>());
  maxpool = register_module("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  int64_t in = width(64);
  std::shared_ptr<Sequential>* layers[] = {&layer1, &layer2, &layer3, &layer4};
  for (int stage = 0; stage < 4; ++stage) {
    int64_t out = width(64 << stage);
    auto layer = std::make_shared<Sequential>();
    layer->add(std::make_shared<BasicBlock>(in, out, stage == 0 ? 1 : 2, c.padding));
    layer->add(std::make_shared<BasicBlock>(out, out, 1, c.padding));
    *layers[stage] = register_module("layer" + std::to_string(stage + 1), layer);
    in = out;
  }
  if (c.features_only) return;
  avgpool = register_module("avgpool", std::make_shared<GlobalAvgPool>());
  fc = register_module("fc", std::make_shared<Linear>(in, c.classes));
}

Tensor ResNet18::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 32 && x.size(3) >= 32,
            "resnet18: expected RGB images [N, 3, H, W] with H, W >= 32, got ", x.shape());
  Tensor y = (*maxpool)((*relu)((*bn1)((*conv1)(x))));
  y = (*layer4)((*layer3)((*layer2)((*layer1)(y))));
  if (config.features_only) return y;
  return (*fc)((*avgpool)(y).flatten(1));
}

}  // namespace nib::models
