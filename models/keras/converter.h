// A Keras model file (.h5 or .keras) as a nib model that computes what Keras
// computed: the layer graph becomes a KerasGraph (models/keras/keras_graph.h),
// the weights are reordered to nib's layouts (layer_weights.h) and loaded.
//
// What the conversion changes, and says so in `notes`:
//   - a final softmax is left out: nib models output logits (class scores),
//     and nib predict/eval apply the softmax themselves, so the probabilities
//     they show are Keras' probabilities;
//   - a Flatten feeding a Dense flattens nib's C, H, W order, and that
//     Dense's weights are reordered from Keras' H, W, C order.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/keras/applications.h"
#include "models/keras/keras_graph.h"
#include "models/registry.h"

namespace nib::formats::keras {

struct ConvertOptions {
  // How the Keras model's inputs were scaled (models/preprocess.h): "" picks
  // the usual: the Application's own, "raw" (pixels 0..255) when the model
  // starts with Rescaling or Normalization, else "none" (pixels / 255, what
  // Keras MNIST examples do).
  std::string preprocess;
  // For models whose input size Keras left open (None): the image size.
  int64_t image_size = 0;
};

struct ConvertedModel {
  std::string source, format, keras_version;
  std::string model_name, model_class;  // Keras' ("sequential", "Sequential")
  models::ModelSpec spec;               // "keras_graph", with its graph and options
                                        // (classes 0 when the output is not (None, classes))
  std::string output_shape;             // Keras' view: "(None, 10)"
  std::shared_ptr<models::keras::KerasGraph> model;  // the Keras weights loaded, in eval mode
  std::map<std::string, int64_t> keras_params;       // values each layer stores in the file
  std::vector<std::string> notes;
  std::optional<Application> application;
};

// Throws a one-line nib::Error naming the file and the problem.
ConvertedModel convert_keras_model(const std::string& path, const ConvertOptions& options = {});

// A table like Keras' model.summary(): layer (type), output shape in Keras'
// order, parameters (as Keras counts them, BatchNorm statistics included), and
// what each layer takes for Functional models.
std::string summary(const ConvertedModel& converted);

// A Keras VGG16 / MobileNetV2 as nib's own architecture: its weights under
// torchvision's names (loaded strictly into that architecture and checked to
// give the KerasGraph's outputs) and the metadata nib classify and
// finetune read (arch, padding, preprocess, width). Throws for other models.
NamedTensors application_weights(const ConvertedModel& converted, std::map<std::string, std::string>& metadata);

}  // namespace nib::formats::keras
