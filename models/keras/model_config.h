// A Keras model's architecture, from the JSON Keras saves with it (the
// `model_config` attribute of an .h5 file, config.json in a .keras archive),
// as a layer graph (models/keras/keras_graph.h).
//
// Understood: Sequential and Functional models ("Model" in older Keras 2),
// in Keras 2's form (inbound nodes as [["conv2d", 0, 0, {}]]) and Keras 3's
// ({"args": [{"class_name": "__keras_tensor__", "config": {"keras_history":
// ["conv2d", 0, 0]}}]}). Not understood, with an error saying so: models
// nested as layers, layers shared (called twice), several inputs or outputs.
#pragma once

#include <string>

#include "models/keras/keras_graph.h"
#include "util/json.h"

namespace nib::formats::keras {

struct ModelConfig {
  std::string class_name;  // "Sequential", "Functional"
  std::string name;        // the model's name ("sequential", "vgg16", "mobilenetv2_1.00_224")
  // Layers with their full Keras configs, InputLayer left out (it is the
  // graph's input). Unknown input sizes are -1.
  models::keras::GraphDescription graph;
};

// `source` names the file in errors.
ModelConfig parse_model_config(const json::Value& root, const std::string& source);

}  // namespace nib::formats::keras
