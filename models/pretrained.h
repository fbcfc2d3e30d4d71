// Loading a pretrained network: build the architecture, read the weights
// (safetensors, or a PyTorch .pth read directly), and take the padding and
// preprocessing conventions from the file's metadata when it has them:
//
//   __metadata__: {"arch": "mobilenet_v2", "padding": "tf_same", "preprocess": "tf"}
//
// and "features_only": "true" for a network saved without its classifier
// (a Keras model converted with include_top=False).
//
// Flags override the metadata; without either, torchvision's conventions
// (symmetric padding, ImageNet mean/std) apply.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/preprocess.h"
#include "models/registry.h"

namespace nib::models {

struct PretrainedOptions {
  std::string padding;     // "" = from the file, else "torch"
  std::string preprocess;  // "" = from the file, else "torch"
  bool features_only = false;
  int64_t image_size = 224;
};

struct PretrainedModel {
  ModelSpec spec;
  ModulePtr model;
  Preprocess preprocess = Preprocess::Torch;
  std::map<std::string, std::string> metadata;
};

// `weights_path` is a file, or "imagenet" for torchvision's ImageNet weights
// (downloaded on first use: models/imagenet_weights.h). Throws naming the
// file for a checkpoint of another architecture, missing or extra tensors, or
// shape mismatches (from load_state_dict).
PretrainedModel load_pretrained(const std::string& arch, const std::string& weights_path,
                                const PretrainedOptions& options);

// The same from tensors already read (nib convert checks a checkpoint before
// writing it): `arch` sized for the weights (classes from the head's shape),
// the weights loaded strictly, in eval mode. Errors list every tensor that
// does not fit.
PretrainedModel build_pretrained(const std::string& arch, const NamedTensors& weights,
                                 const std::map<std::string, std::string>& metadata,
                                 const PretrainedOptions& options);

// What a weights file holds, told by its first bytes (not its name): a
// PyTorch checkpoint (torch.save's zip archive) or safetensors. Anything else
// is an error naming the file: "not a PyTorch checkpoint (zip) or safetensors
// file", or that it is a legacy pickle checkpoint.
enum class WeightsFormat { TorchZip, SafeTensors };
WeightsFormat sniff_weights_format(const std::string& path);

// Reads a weights file: safetensors (with its metadata) or a PyTorch checkpoint
// (.pth/.pt/.bin or any name), by its content.
NamedTensors read_weights(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// An image file as a network input [1, 3, size, size] in [0, 1]: RGB, the
// central `crop` fraction of each side (1 = whole image), resized with PIL's
// bilinear filter as Python pipelines do. Errors name the file.
Tensor load_network_input(const std::string& path, int64_t size, double crop = 1.0);

}  // namespace nib::models
