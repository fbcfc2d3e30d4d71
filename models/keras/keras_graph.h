// keras_graph: a model converted from Keras (`nib convert model.h5 RUN_DIR`),
// rebuilt from a description of its layer graph that the run directory's
// config.json keeps under "graph", so nib predict, eval, finetune, extract
// and index need nothing but the run directory.
//
// The description is the Keras model's own, trimmed to what nib uses:
//
//   {"input": {"name": "conv2d_input", "shape": [28, 28, 1]},   Keras' (H, W, C), (H, W) or (D)
//    "layers": [{"name": "conv2d", "class_name": "Conv2D", "inputs": ["conv2d_input"],
//                "config": {"filters": 32, "kernel_size": [3, 3], "activation": "relu", ...}},
//               ...],
//    "output": "dense_1"}
//
// Sequential models are chains; Functional ones list each layer's inputs
// (Add and Concatenate take several). Layers keep their Keras names, so the
// weights are "conv2d.weight", "dense_1.bias", and `nib extract --layer dense`
// hooks Keras' layer "dense". keras_layers.h says what each layer becomes.
//
// The model takes images [N, C, H, W] in [0, 1], like every nib model, and
// applies the input scaling the Keras model was trained with (a Preprocess,
// e.g. "raw" for pixels in 0..255) inside forward. A Keras model whose input
// is a vector (an MLP on 784 pixels) gets the image flattened in Keras'
// H, W, C order; one whose input is (H, W) gets [N, H, W].
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "models/preprocess.h"
#include "util/json.h"

namespace nib::models::keras {

struct GraphLayer {
  std::string name;                 // Keras' layer name
  std::string class_name;           // "Conv2D"
  std::vector<std::string> inputs;  // the layers (or the model input) it takes, in order
  json::Value config;               // Keras' layer config (the keys nib reads)
};

struct GraphDescription {
  std::string input_name;
  std::vector<int64_t> input_shape;  // Keras' order, without the batch: {H, W, C}, {H, W} or {D}
  std::vector<GraphLayer> layers;    // each after the layers it takes
  std::string output;

  json::Value to_json() const;
  // Throws naming what is missing or malformed.
  static GraphDescription from_json(const json::Value& graph);
  const GraphLayer* find(const std::string& name) const;
  // The layer whose output is the model's features: the input of the final
  // Dense (the classifier), past any Dropout or Activation after it. Throws
  // when the model does not end in a Dense.
  std::string feature_layer() const;
};

// The Keras layer classes nib converts, for messages: "InputLayer, Conv2D, ...".
const char* supported_layers();

class KerasGraph : public Module {
 public:
  // in_channels x image_size x image_size: nib's view of the input (a vector
  // input of D = C*S*S values is an image flattened). features_only: the
  // model ends at feature_layer() (nib finetune puts a new head there).
  // Throws naming the layer for anything nib cannot build.
  KerasGraph(GraphDescription graph, int64_t in_channels, int64_t image_size, Preprocess preprocess,
             bool features_only = false);

  Tensor forward(const Tensor& images) override;
  std::string describe() const override;

  const GraphDescription& graph() const { return graph_; }
  Preprocess preprocess() const { return preprocess_; }
  // The layers built (all, or up to the features), in order, and their
  // output shapes (or the input's) for one image in nib's layout ([1, 32, 26, 26]).
  const std::vector<std::string>& layer_names() const { return order_; }
  const Shape& output_shape(const std::string& layer) const { return shapes_.at(layer); }

 private:
  Tensor input_tensor(const Tensor& images) const;

  GraphDescription graph_;
  int64_t in_channels_, image_size_;
  Preprocess preprocess_;
  std::string output_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<std::string>> inputs_;
  std::map<std::string, Module*> modules_;
  std::map<std::string, Shape> shapes_;
};

// A small example graph (an MLP on 28x28 images), for `nib models`.
json::Value example_graph();

}  // namespace nib::models::keras
