#include "models/head.h"

#include <cstdlib>
#include <sstream>

#include "layers/activation.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/shape_layers.h"

namespace nib::models {

namespace {

const char* kValid = "gap, flatten, denseN (e.g. dense128) or dropoutP (e.g. dropout0.5)";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

HeadLayer parse_item(const std::string& item, const std::string& spec) {
  if (item == "gap") return {HeadLayer::GlobalPool};
  if (item == "flatten") return {HeadLayer::Flatten};
  char* end = nullptr;
  if (starts_with(item, "dense") && item.size() > 5) {
    long long units = std::strtoll(item.c_str() + 5, &end, 10);
    NIB_CHECK(*end == '\0' && units > 0, "--head '", spec, "': '", item, "' needs a positive unit count, e.g. dense128");
    return {HeadLayer::Dense, units};
  }
  if (starts_with(item, "dropout") && item.size() > 7) {
    float p = std::strtof(item.c_str() + 7, &end);
    NIB_CHECK(*end == '\0' && p >= 0.0f && p < 1.0f, "--head '", spec, "': '", item,
              "' needs a probability in [0, 1), e.g. dropout0.5");
    return {HeadLayer::Dropout, 0, p};
  }
  fail("--head '", spec, "': unknown layer '", item, "' (valid: ", kValid, ")");
}

}  // namespace

std::vector<HeadLayer> parse_head(const std::string& spec) {
  std::vector<HeadLayer> layers;
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    NIB_CHECK(!item.empty(), "--head '", spec, "': empty item (valid: ", kValid, ")");
    layers.push_back(parse_item(item, spec));
  }
  return layers;
}

std::shared_ptr<Sequential> build_head(const std::vector<HeadLayer>& layers, const Shape& feature_shape,
                                       int64_t classes) {
  NIB_CHECK(classes >= 2, "transfer head: needs at least 2 classes, got ", classes);
  auto head = std::make_shared<Sequential>();
  // Track the shape of one example through the head to size the Linear layers.
  Shape shape = feature_shape;
  auto flatten = [&] {
    if (shape.rank() == 1) return;
    head->add(std::make_shared<nib::Flatten>());
    shape = {shape.numel()};
  };
  for (const HeadLayer& layer : layers) {
    switch (layer.kind) {
      case HeadLayer::GlobalPool:
        NIB_CHECK(shape.rank() == 3, "--head: gap needs a feature map [C, H, W], but its input is ", shape);
        head->add(std::make_shared<GlobalAvgPool>());
        shape = {shape[0], 1, 1};
        flatten();  // Keras' GlobalAveragePooling2D gives [N, C]
        break;
      case HeadLayer::Flatten:
        flatten();
        break;
      case HeadLayer::Dense:
        flatten();  // Dense on a feature map means Dense on its flattened values
        head->add(std::make_shared<Linear>(shape[0], layer.units));
        head->add(std::make_shared<ActivationLayer>(kernels::Activation::ReLU));
        shape = {layer.units};
        break;
      case HeadLayer::Dropout:
        head->add(std::make_shared<nib::Dropout>(layer.p));
        break;
    }
  }
  flatten();
  head->add(std::make_shared<Linear>(shape[0], classes));
  return head;
}

}  // namespace nib::models
