// Images (util/image.h: 8-bit pixels scaled to [0, 1], height x width x
// channels) as tensors and back.
#pragma once

#include "tensor/tensor.h"
#include "util/image.h"

namespace nib {

// [C, H, W] float32 on the CPU, and back. tensor_to_image also accepts
// [1, C, H, W]; values are clamped to [0, 1].
Tensor image_to_tensor(const Image& image);
Image tensor_to_image(const Tensor& tensor);

}  // namespace nib
