// Where a Keras file keeps each layer's weights, in its three layouts:
//
//   Keras 2 .h5   model_weights/<layer>/<layer>/kernel:0, with the attribute
//                 weight_names = ["conv2d/kernel:0", "conv2d/bias:0"] on model_weights/<layer>
//   Keras 3 .h5   model_weights/<layer>/<model>/<layer>/kernel (weight_names when Keras wrote them)
//   .keras zip    model.weights.h5: layers/<key>/vars/0, 1, ... in the layer's
//                 variable order, where <key> is the snake-case class name made
//                 unique in model order ("conv2d", "conv2d_1", "batch_normalization")
//
// Weights come back as Keras stored them (HWIO kernels, [in, out] Dense);
// models/keras/layer_weights.h reorders them for nib.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/hdf5_file.h"
#include "models/keras/keras_graph.h"

namespace nib::formats::keras {

// One weight a layer has: the names Keras may give it (Keras 2 and 3 differ:
// a depthwise kernel is "depthwise_kernel" in one, "kernel" in the other).
struct WeightSlot {
  std::vector<std::string> names;
};

class WeightStore {
 public:
  virtual ~WeightStore() = default;
  // The weights of `layer`, one per slot, in the slots' order. Throws naming
  // the file and the layer when one is missing or the file holds others.
  virtual std::vector<Tensor> layer_weights(const models::keras::GraphLayer& layer,
                                            const std::vector<WeightSlot>& slots) = 0;
  virtual const std::string& source() const = 0;
};

// The .h5 layouts; `layers` in model order.
std::unique_ptr<WeightStore> h5_weight_store(std::shared_ptr<hdf5::File> file);
// A .keras archive's model.weights.h5; `layers` are the model's layers in
// Keras' order (model.layers), which decides the keys.
std::unique_ptr<WeightStore> keras_zip_weight_store(std::shared_ptr<hdf5::File> file,
                                                    const std::vector<models::keras::GraphLayer>& layers);

// Keras' naming.to_snake_case: "DepthwiseConv2D" -> "depthwise_conv2d".
std::string snake_case(const std::string& class_name);

}  // namespace nib::formats::keras
