// Feature extraction: run images through a network and keep the output of
// one named module (a forward hook, as in PyTorch), flattened per image.
//
// The network can be
//   - a pretrained architecture with weights (mobilenet_v2, vgg16, resnet18);
//   - a run directory of nib train (its model, e.g. the basic CNN's penultimate layer);
//   - "pixels": the resized image itself, the baseline every feature must beat.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/input_style.h"
#include "layers/module.h"
#include "models/preprocess.h"

namespace nib::retrieval {

struct ExtractorOptions {
  std::string model;        // mobilenet_v2 | vgg16 | resnet18 | pixels | a run directory
  std::string weights;      // for pretrained architectures
  std::string layer;        // "" = the default layer of the model
  std::string padding;      // "" = from the weights' metadata
  std::string preprocess;   // "" = from the weights' metadata
  int64_t image_size = 0;   // 0 = the model's (224 pretrained, the run's image size, 32 for pixels)
  int64_t channels = 0;     // pixels only: 1 or 3 (0 = 3); networks take what they were trained on
  double center_crop = 1.0; // images are resized straight to the input size unless < 1
  // A run directory's image files: "auto" prepares them as its config.json
  // records (datasets/input_style.h: MNIST-style for MNIST-like data), "none"
  // only resizes them. Pretrained networks and pixels only resize.
  std::string prepare = "auto";
  bool global_pool = false; // average a 4-D layer output over space ([N, C, H, W] -> [N, C])
  bool keep_shape = false;  // [N, C, H, W] features as the layer gives them, instead of [N, D]
  bool l2_normalize = false;
  int64_t batch_size = 32;
  Device device = kCPU;
};

class FeatureExtractor {
 public:
  explicit FeatureExtractor(const ExtractorOptions& options);

  // [N, D] features for image files (loaded, cropped, resized with PIL's filter).
  Tensor extract_files(const std::vector<std::string>& paths, bool progress = true);
  // [N, D] features for images already in memory ([N, C, H, W] in [0, 1]),
  // resized to the model's input when needed.
  Tensor extract_images(const Tensor& images, bool progress = true);

  // What produced the features, stored with an index so queries match it:
  // every setting that changes a feature vector, with paths made absolute.
  // extractor_options(describe()) rebuilds an extractor giving the same features.
  std::map<std::string, std::string> describe() const;
  int64_t image_size() const { return image_size_; }
  int64_t channels() const { return channels_; }
  const std::string& layer() const { return layer_; }
  // Every module of the network with its output shape, for choosing --layer.
  std::vector<std::string> layers();

 private:
  Tensor features_of_batch(const Tensor& batch);  // batch [B, C, S, S] in [0, 1]

  ExtractorOptions options_;
  ModulePtr model_;
  Module* hooked_ = nullptr;
  std::string layer_, weights_, padding_;
  bool global_pool_ = false;
  models::Preprocess preprocess_ = models::Preprocess::None;
  data::InputStyle preparation_ = data::InputStyle::none();
  int64_t image_size_ = 0, channels_ = 3;
  std::map<std::string, std::string> description_;
};

// The options that made features with this description (see describe()).
// Throws naming the missing key for a description that is incomplete.
ExtractorOptions extractor_options(const std::map<std::string, std::string>& description);

// "name [output shape]" for every module of a model on an input of the given size.
std::vector<std::string> describe_layers(Module& model, int64_t channels, int64_t image_size);

}  // namespace nib::retrieval
