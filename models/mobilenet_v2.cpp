#include "models/mobilenet_v2.h"

#include "layers/layers.h"

namespace nib::models {

namespace {

// Conv -> BN -> ReLU6, torchvision's Conv2dNormActivation: children 0, 1, 2.
std::shared_ptr<Sequential> conv_bn_relu6(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                          PaddingStyle padding) {
  auto block = std::make_shared<Sequential>();
  block->add(make_conv(in, out, kernel, stride, groups, /*bias=*/false, padding));
  block->add(std::make_shared<BatchNorm2d>(out));
  block->add(std::make_shared<ReLU6>());
  return block;
}

// (expansion t, output channels c, repeats n, first stride s) per stage.
struct Stage {
  int64_t t, c, n, s;
};
const Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                         {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

int64_t make_divisible(double value, int64_t divisor) {
  int64_t rounded = std::max<int64_t>(divisor, static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

InvertedResidual::InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio,
                                   PaddingStyle padding)
    : use_residual(stride == 1 && in == out), in(in), out(out), stride(stride), expand_ratio(expand_ratio) {
  int64_t hidden = in * expand_ratio;
  conv = register_module("conv", std::make_shared<Sequential>());
  if (expand_ratio != 1) conv->add(conv_bn_relu6(in, hidden, 1, 1, 1, padding));  // expand
  conv->add(conv_bn_relu6(hidden, hidden, 3, stride, hidden, padding));            // depthwise
  conv->add(make_conv(hidden, out, 1, 1, 1, /*bias=*/false, padding));             // project (linear)
  conv->add(std::make_shared<BatchNorm2d>(out));
}

Tensor InvertedResidual::forward(const Tensor& x) {
  Tensor y = (*conv)(x);
  return use_residual ? x + y : y;
}

std::string InvertedResidual::describe() const {
  return str("InvertedResidual(", in, " -> ", out, ", stride=", stride, ", expand=", expand_ratio,
             use_residual ? ", residual" : "", ")");
}

MobileNetV2::MobileNetV2(const TorchvisionConfig& c) : config(c) {
  int64_t channels = make_divisible(32 * c.width);
  last_channels = make_divisible(1280 * std::max(1.0f, c.width));
  features = register_module("features", std::make_shared<Sequential>());
  features->add(conv_bn_relu6(3, channels, 3, 2, 1, c.padding));
  for (const Stage& stage : kStages) {
    int64_t out = make_divisible(stage.c * c.width);
    for (int64_t i = 0; i < stage.n; ++i) {
      features->add(std::make_shared<InvertedResidual>(channels, out, i == 0 ? stage.s : 1, stage.t, c.padding));
      channels = out;
    }
  }
  features->add(conv_bn_relu6(channels, last_channels, 1, 1, 1, c.padding));
  if (c.features_only) return;
  avgpool = register_module("avgpool", std::make_shared<GlobalAvgPool>());
  classifier = register_module("classifier", std::make_shared<Sequential>());
  classifier->add(std::make_shared<Dropout>(c.dropout < 0 ? 0.2f : c.dropout));
  classifier->add(std::make_shared<Linear>(last_channels, c.classes));
}

Tensor MobileNetV2::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 32 && x.size(3) >= 32,
            "mobilenet_v2: expected RGB images [N, 3, H, W] with H, W >= 32, got ", x.shape());
  Tensor y = (*features)(x);
  if (config.features_only) return y;
  return (*classifier)((*avgpool)(y).flatten(1));
}

}  // namespace nib::models
