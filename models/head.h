// The new classifier put on top of a pretrained base for transfer learning,
// written as a comma-separated spec, as Keras code stacks layers:
//
//   gap          global average pool [N, C, H, W] -> [N, C]   (GlobalAveragePooling2D)
//   flatten      [N, C, H, W] -> [N, C*H*W]                    (Flatten)
//   dense128     Linear to 128 units followed by ReLU          (Dense(128, activation='relu'))
//   dropout0.5   Dropout with p = 0.5                          (Dropout(0.5))
//
// "gap,dense128,dropout0.5" becomes Sequential(GlobalAvgPool, Flatten, Linear,
// ReLU, Dropout, Linear -> classes): the final Linear to the number of classes
// is always added, so the spec describes only what comes between.
#pragma once

#include <string>
#include <vector>

#include "layers/sequential.h"
#include "tensor/tensor.h"

namespace nib::models {

struct HeadLayer {
  enum Kind { GlobalPool, Flatten, Dense, Dropout } kind;
  int64_t units = 0;  // Dense
  float p = 0.0f;     // Dropout
};

// Throws nib::Error naming the item and the valid forms for anything else.
std::vector<HeadLayer> parse_head(const std::string& spec);

// The head for a base whose output is `feature_shape` ([C, H, W] of one
// image, or [C] when already pooled), ending in Linear(..., classes).
std::shared_ptr<Sequential> build_head(const std::vector<HeadLayer>& layers, const Shape& feature_shape,
                                       int64_t classes);

}  // namespace nib::models
