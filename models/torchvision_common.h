// What the torchvision architectures (VGG16, MobileNetV2, ResNet-18) share:
// the padding convention and a few options.
//
// Padding: torchvision pads symmetrically (a 3x3 stride-2 conv pads 1 on every
// side); TensorFlow 'SAME' pads 0 before and 1 after on even sizes. Networks
// trained in TensorFlow (Keras applications, TFLite models) only reproduce
// their outputs with 'SAME', so every conv can be switched to it.
#pragma once

#include <cstdint>
#include <string>

#include "layers/conv2d.h"

namespace nib::models {

enum class PaddingStyle { Torch, TfSame };
// "torch" or "tf_same" (errors otherwise).
PaddingStyle parse_padding_style(const std::string& text);
const char* padding_style_name(PaddingStyle style);

struct TorchvisionConfig {
  int64_t classes = 1000;
  PaddingStyle padding = PaddingStyle::Torch;
  float width = 1.0f;          // channel multiplier (reduced-width variants make small test fixtures)
  bool features_only = false;  // no classifier: forward returns the last feature map (Keras include_top=False)
  float dropout = -1.0f;       // classifier dropout; < 0 = the architecture's default
};

// A conv as torchvision builds it, with its padding for the chosen style.
std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool bias,
                                  PaddingStyle padding);

}  // namespace nib::models
