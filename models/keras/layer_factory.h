// Keras layer class + config -> the nib module that computes it
// (keras_layers.h), one builder per class.
#pragma once

#include <vector>

#include "models/keras/keras_graph.h"

namespace nib::models::keras {

// `input_shapes`: the shapes of the layer's inputs in nib's layout, for one
// image ([1, C, H, W] or [1, D]). Throws naming the layer and its class for
// a class or setting nib does not support (listing the supported classes).
ModulePtr make_layer(const GraphLayer& layer, const std::vector<Shape>& input_shapes);

}  // namespace nib::models::keras
