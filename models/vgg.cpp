#include "models/vgg.h"

#include "layers/layers.h"

namespace nib::models {

namespace {
// torchvision's configuration "D": channels per conv, 0 = max pool.
const int64_t kVgg16Layers[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};

int64_t scaled(int64_t channels, float width) { return std::max<int64_t>(1, static_cast<int64_t>(channels * width)); }
}  // namespace

Vgg16::Vgg16(const TorchvisionConfig& c) : config(c) {
  features = register_module("features", std::make_shared<Sequential>());
  int64_t in = 3;
  for (int64_t v : kVgg16Layers) {
    if (v == 0) {
      features->add(std::make_shared<MaxPool2d>(2, 2));
      continue;
    }
    int64_t out = scaled(v, c.width);
    features->add(make_conv(in, out, 3, 1, 1, /*bias=*/true, c.padding));
    features->add(std::make_shared<ReLU>());
    in = out;
  }
  if (c.features_only) return;
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(7, 7));
  int64_t hidden = scaled(4096, c.width);
  float p = c.dropout < 0 ? 0.5f : c.dropout;
  classifier = register_module("classifier", std::make_shared<Sequential>());
  classifier->add(std::make_shared<Linear>(in * 7 * 7, hidden));
  classifier->add(std::make_shared<ReLU>());
  classifier->add(std::make_shared<Dropout>(p));
  classifier->add(std::make_shared<Linear>(hidden, hidden));
  classifier->add(std::make_shared<ReLU>());
  classifier->add(std::make_shared<Dropout>(p));
  classifier->add(std::make_shared<Linear>(hidden, c.classes));
}

Tensor Vgg16::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 32 && x.size(3) >= 32,
            "vgg16: expected RGB images [N, 3, H, W] with H, W >= 32, got ", x.shape());
  Tensor y = (*features)(x);
  if (config.features_only) return y;
  return (*classifier)((*avgpool)(y).flatten(1));
}

}  // namespace nib::models
