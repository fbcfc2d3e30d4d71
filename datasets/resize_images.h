// Resizing a whole in-memory data set, for networks that want larger inputs
// than the data has (MNIST's 28x28 digits into a pretrained MobileNetV2, which
// needs at least 32x32).
#pragma once

#include <cstdint>

#include "datasets/dataset.h"

namespace nib::data {

// Every image bilinearly resized to size x size (util/image.h resize,
// PyTorch's F.interpolate semantics); labels and names shared. A set already
// that size is returned as it is.
Dataset resize_images(const Dataset& set, int64_t size);

}  // namespace nib::data
