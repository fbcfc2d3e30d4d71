// Keras' weights of one layer in nib's layouts and names.
//
//   Conv2D            kernel [kh, kw, in/groups, out] (HWIO)  -> weight [out, in/groups, kh, kw] (OIHW)
//   DepthwiseConv2D   kernel [kh, kw, C, m]                   -> weight [C*m, 1, kh, kw], output c*m + j
//   SeparableConv2D   depthwise_kernel, pointwise_kernel      -> depthwise.weight, pointwise.weight (+ .bias)
//   Dense             kernel [in, out]                        -> weight [out, in]
//   BatchNormalization gamma, beta, moving_mean, moving_variance -> weight, bias, running_mean, running_var
//                     (gamma = 1 without scale, beta = 0 without center)
//   Normalization     mean, variance (or the config's)        -> mean, variance
//
// A Dense right after a Flatten of a feature map also has its input rows
// reordered: Keras flattened [H, W, C], nib flattens [C, H, W] (keras_layers.h).
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"
#include "models/keras/weight_store.h"

namespace nib::formats::keras {

// The weights a layer of this class and config stores, in Keras' order.
std::vector<WeightSlot> weight_slots(const models::keras::GraphLayer& layer);

// `keras`: the layer's weights, one per slot. `module`: the nib module built
// for the layer (its tensors give the shapes expected). `flattened`: for a
// Dense fed by a channels-first Flatten, the [C, H, W] it flattened (empty
// otherwise). Returns the tensors under the module's own names ("weight").
// Throws naming the file, the layer and the weight for a shape that does not
// fit the layer's config, in Keras' terms.
NamedTensors nib_weights(const models::keras::GraphLayer& layer, const std::vector<Tensor>& keras, Module& module,
                         const std::vector<int64_t>& flattened, const std::string& source);

}  // namespace nib::formats::keras
