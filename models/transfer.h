// Transfer learning: a pretrained base (a torchvision network without its
// classifier) with a new head on top, as one Module, so a fine-tuned model
// saves, loads and predicts like any other:
//
//   Transfer
//     base    MobileNetV2 / VGG16 / ResNet-18, features_only (names "base.features.3.conv.0.0.weight"),
//             or a model converted from Keras (keras_graph), cut before its final Dense
//     head    Sequential from a head spec (models/head.h), ending in Linear -> classes
//
// forward(images in [0, 1]) repeats grayscale to 3 channels, applies the
// base's preprocessing (models/preprocess.h), runs the base, then the head:
// the model takes the same images as nib's other models, and nib predict
// needs nothing special.
//
// Freezing follows Keras' trainable=False: frozen parameters get no gradient
// and no optimizer state, and a BatchNorm whose parameters are frozen stays in
// inference mode (running statistics) even when the model is set to train().
// Without that, a frozen MobileNetV2 would normalise with the statistics of
// each small batch of digits and its pretrained features would drift.
// Unfrozen blocks keep inference-mode BatchNorm too by default (their γ and
// β still train), as Keras' guide does by calling the base with
// training=False: switching them to batch statistics mid-training changes
// the features under the head at once. With the TFLite MobileNetV2, whose
// BatchNorms are folded (identity statistics, the conv bias in β), MNIST
// fine-tuning of features.17-18 fell to chance accuracy within one epoch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/sequential.h"
#include "models/preprocess.h"
#include "models/registry.h"

namespace nib::models {

struct TransferConfig {
  std::string arch = "mobilenet_v2";   // vgg16 | mobilenet_v2 | resnet18 | keras_graph
  std::string padding = "torch";       // torch | tf_same (models/torchvision_common.h)
  std::string width = "1.0";           // the base's width multiplier (reduced in test fixtures)
  Preprocess preprocess = Preprocess::Torch;
  std::string head = "gap,dense128,dropout0.5";
  int64_t in_channels = 3;             // 1: grayscale input, repeated to RGB inside forward
  int64_t image_size = 224;
  int64_t classes = 2;
  // arch keras_graph (nib finetune --model RUN_DIR of nib convert): the
  // converted model's layer graph, the channels it takes and its own input
  // scaling, which it applies itself (so `preprocess` stays none).
  json::Value base_graph{};
  int64_t base_channels = 3;
  std::string base_preprocess = "none";
};

class Transfer : public Module {
 public:
  // base_channels: what the base takes (3 for the torchvision networks); 1-channel
  // images are repeated to RGB for a 3-channel base.
  Transfer(ModulePtr base, std::shared_ptr<Sequential> head, Preprocess preprocess, int64_t in_channels,
           int64_t base_channels = 3);
  Tensor forward(const Tensor& images) override;
  std::string describe() const override;

  // What the base sees: RGB (grayscale repeated), preprocessed.
  Tensor base_input(const Tensor& images) const;
  // The leading head layers without parameters or randomness (gap, flatten):
  // with a frozen base they compute the same thing every epoch, so feature
  // caching applies them once too.
  size_t fixed_head_layers() const;
  // base, then the fixed head layers: what --cache-features stores per image.
  Tensor frozen_features(const Tensor& images);
  // The rest of the head, from the fixed layers' output to the logits.
  Tensor head_from_features(const Tensor& features);

  ModulePtr base;
  std::shared_ptr<Sequential> head;
  Preprocess preprocess;
  int64_t in_channels, base_channels;
  // Unfrozen base BatchNorms use running statistics too (see the top of the
  // file); false lets them use batch statistics in train().
  bool base_batchnorm_eval = true;

 protected:
  // Runs after the children switched: puts the base's BatchNorms back in eval mode.
  void on_train(bool on) override;
};

// The head alone, for training on cached features: its only child is the
// Transfer's head (shared, not copied), so training it trains the Transfer,
// and forward takes frozen_features() output.
class TransferHead : public Module {
 public:
  explicit TransferHead(std::shared_ptr<Transfer> model);
  Tensor forward(const Tensor& features) override { return model_->head_from_features(features); }
  std::string describe() const override { return "TransferHead"; }

 private:
  std::shared_ptr<Transfer> model_;
};

// The architecture with fresh weights (nib predict then loads the run's
// weights). The head's input size comes from one forward through the base.
std::shared_ptr<Transfer> build_transfer(const TransferConfig& config);

// Loads the base's pretrained weights (models/pretrained.h). An empty
// config.padding or a preprocess given as "" in `preprocess` takes the
// file's metadata; `config` is updated to what was used, for config.json.
std::shared_ptr<Transfer> load_transfer(TransferConfig& config, const std::string& weights_path,
                                        const std::string& preprocess = "");

// A model converted from Keras as the base: `run_model` is the ModelSpec of
// its run directory (keras_graph), `weights_path` its model.safetensors. The
// base keeps the layers up to its final Dense's input; config is filled in.
std::shared_ptr<Transfer> load_keras_transfer(TransferConfig& config, const ModelSpec& run_model,
                                              const std::string& weights_path);

// The ModelSpec that rebuilds `config` through models::build_model (model
// "transfer"), and back.
ModelSpec transfer_spec(const TransferConfig& config);
TransferConfig transfer_config(const ModelSpec& spec);

// Names (below the base) of the last k blocks, last first:
//   mobilenet_v2  features.18, features.17, ...  (19 blocks)
//   vgg16         the last k conv layers: features.28, features.26, ...  (13)
//   resnet18      layer4.1, layer4.0, layer3.1, ...  (8 BasicBlocks)
//   keras_graph   its last k layers with weights: dense, conv2d_1, ...
// Throws naming the largest valid k when k is out of range.
std::vector<std::string> last_blocks(const std::string& arch, Module& base, int64_t k);

// Unfreezes the last k blocks of model.base; returns their names.
std::vector<std::string> unfreeze_last_blocks(Transfer& model, const std::string& arch, int64_t k);

}  // namespace nib::models
