// Builds any of nib's models by name, from options that fit on a command line
// and in a run's config.json, so a trained model can be rebuilt from its
// directory alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "util/json.h"

namespace nib::models {

struct ModelSpec {
  std::string name;  // "basic-cnn", "mlp", ...
  int64_t in_channels = 1;
  int64_t image_size = 28;
  int64_t classes = 10;
  // Model-specific options as text ("hidden" -> "256"); see list_models().
  std::map<std::string, std::string> options;
  // Model "keras_graph" only: the layer graph of a model converted from Keras
  // (models/keras/keras_graph.h); null otherwise.
  json::Value graph{};
};

struct ModelInfo {
  std::string name;
  std::string summary;
  std::string options;  // the options it understands, with defaults
  ModelSpec example;    // the spec `nib models` counts parameters for
};

const std::vector<ModelInfo>& list_models();
// Throws nib::Error for an unknown model or option, naming the valid ones.
ModulePtr build_model(const ModelSpec& spec);
// Options a model would rather choose by its input size when they are not
// given (basic-cnn: blocks, see basic_cnn_blocks_for). nib train adds them to
// the spec it records in config.json, so the run is rebuilt the same way; a
// model's own defaults, which build_model uses for an absent option, stay
// fixed, so older run directories still load.
std::map<std::string, std::string> size_chosen_options(const ModelSpec& spec);
// "hidden=256,dropout=0.5" -> options (errors on malformed items).
std::map<std::string, std::string> parse_options(const std::string& text);
// "1x28x28 -> 10 classes, hidden=64": the spec in one line, for logs.
std::string describe_options(const ModelSpec& spec);

}  // namespace nib::models
