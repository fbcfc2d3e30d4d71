#include "models/keras/applications.h"

#include <cstdlib>

namespace nib::formats::keras {

namespace {

Application vgg16(const ModelConfig& model) {
  Application app{"vgg16", "tf_same", "caffe", "", {}};
  // torchvision's features.N index of each conv (ReLUs and pools sit between).
  const int blocks[5][3] = {{0, 2, -1}, {5, 7, -1}, {10, 12, 14}, {17, 19, 21}, {24, 26, 28}};
  for (int b = 0; b < 5; ++b)
    for (int k = 0; k < 3; ++k)
      if (blocks[b][k] >= 0)
        app.modules[str("block", b + 1, "_conv", k + 1)] = str("features.", blocks[b][k]);
  app.modules["fc1"] = "classifier.0";
  app.modules["fc2"] = "classifier.3";
  app.modules["predictions"] = "classifier.6";
  // nib's vgg16 narrows every layer by one factor (test fixtures); Keras' has 64 filters first.
  if (const models::keras::GraphLayer* first = model.graph.find("block1_conv1"))
    if (const json::Value* filters = first->config.find("filters"); filters && filters->as_int() != 64)
      app.width = str(filters->as_number() / 64.0);
  return app;
}

Application mobilenet_v2(const std::string& alpha) {
  Application app{"mobilenet_v2", "tf_same", "tf", alpha == "1.00" || alpha == "1.0" ? "" : alpha, {}};
  auto conv_bn = [&](const std::string& conv, const std::string& bn, const std::string& nib) {
    app.modules[conv] = nib + ".0";
    app.modules[bn] = nib + ".1";
  };
  conv_bn("Conv1", "bn_Conv1", "features.0");
  conv_bn("expanded_conv_depthwise", "expanded_conv_depthwise_BN", "features.1.conv.0");
  app.modules["expanded_conv_project"] = "features.1.conv.1";
  app.modules["expanded_conv_project_BN"] = "features.1.conv.2";
  for (int i = 1; i <= 16; ++i) {
    std::string block = str("block_", i, "_"), nib = str("features.", i + 1, ".conv.");
    conv_bn(block + "expand", block + "expand_BN", nib + "0");
    conv_bn(block + "depthwise", block + "depthwise_BN", nib + "1");
    app.modules[block + "project"] = nib + "2";
    app.modules[block + "project_BN"] = nib + "3";
  }
  conv_bn("Conv_1", "Conv_1_bn", "features.18");
  app.modules["predictions"] = "classifier.1";
  return app;
}

}  // namespace

std::optional<Application> recognise_application(const ModelConfig& model) {
  if (model.name == "vgg16") return vgg16(model);
  // "mobilenetv2_1.00_224": alpha, then the input size.
  const std::string prefix = "mobilenetv2_";
  if (model.name.rfind(prefix, 0) == 0) {
    std::string rest = model.name.substr(prefix.size());
    std::string alpha = rest.substr(0, rest.find('_'));
    char* end = nullptr;
    std::strtod(alpha.c_str(), &end);
    if (!alpha.empty() && end && *end == '\0') return mobilenet_v2(alpha);
  }
  return std::nullopt;
}

}  // namespace nib::formats::keras
