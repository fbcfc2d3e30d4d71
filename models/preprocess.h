// Input preprocessing for pretrained networks: the three conventions Keras
// applications use. nib's images are RGB floats in [0, 1]; a network sees
// them the way it was trained:
//
//   torch   (x - ImageNet mean) / ImageNet std, per RGB channel   (torchvision, Keras ResNet50V2...)
//   tf      x * 2 - 1, i.e. pixel / 127.5 - 1                    (MobileNet, Inception in Keras/TF)
//   caffe   BGR order, pixel - ImageNet mean in 0..255 units      (Keras VGG16, ResNet50)
//   none    unchanged                                            (nib's own digit models; Keras' pixel/255)
//   raw     pixel values 0..255, x * 255                        (Keras models that scale inside, with Rescaling)
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace nib::models {

enum class Preprocess { None, Torch, Tf, Caffe, Raw };

Preprocess parse_preprocess(const std::string& name);  // errors name the valid modes
const char* preprocess_name(Preprocess mode);

// Applies `mode` to images [N, 3, H, W] (or [N, 1, H, W] for None, Tf and Raw) in [0, 1].
Tensor preprocess(const Tensor& images, Preprocess mode);

}  // namespace nib::models
