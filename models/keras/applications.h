// Keras Applications that are also nib architectures: a Keras VGG16 or
// MobileNetV2 file (with or without its top) converts onto nib's own vgg16 /
// mobilenet_v2 (torchvision names), so `nib classify`, `nib finetune
// --weights` and `nib index` use it as they use torchvision's weights.
//
// Recognised by the model's name, which keras.applications sets: "vgg16",
// "mobilenetv2_<alpha>_<size>" (the width multiplier comes from alpha). The
// layer names then map one to one; the strict load into nib's architecture
// catches any file that only borrowed the name.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "models/keras/model_config.h"

namespace nib::formats::keras {

struct Application {
  std::string arch;        // nib's architecture: "vgg16" or "mobilenet_v2"
  std::string padding;     // "tf_same": Keras pads stride-2 convs 0 before, 1 after
  std::string preprocess;  // how keras.applications.<model>.preprocess_input scales: "caffe" or "tf"
  std::string width;       // the width multiplier ("0.35"), "" for 1.0
  // Keras layer (with weights) -> nib module ("block1_conv1" -> "features.0").
  std::map<std::string, std::string> modules;
};

std::optional<Application> recognise_application(const ModelConfig& model);

}  // namespace nib::formats::keras
