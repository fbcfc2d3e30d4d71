// Opening a Keras model file, whichever of the three forms it has:
//
//   Keras 2 .h5    HDF5: attribute model_config (JSON) + group model_weights (legacy layout)
//   Keras 3 .h5    the same container, Keras 3's layer configs and weight paths
//   .keras         a zip archive: config.json, metadata.json, model.weights.h5
//
// The form is told by the file's first bytes, not its name. Errors name the
// file and what is wrong with it, on one line.
#pragma once

#include <memory>
#include <string>

#include "models/keras/model_config.h"
#include "models/keras/weight_store.h"

namespace nib::formats::keras {

struct KerasFile {
  std::string path;
  std::string format;         // "Keras 2 HDF5", "Keras 3 HDF5" or "Keras 3 archive (.keras)"
  std::string keras_version;  // "2.15.0"; "" when the file does not say
  ModelConfig model;
  std::unique_ptr<WeightStore> weights;
};

KerasFile open_keras_file(const std::string& path);

}  // namespace nib::formats::keras
