// Pretrained weights by name, like Keras' weights='imagenet': `--weights
// imagenet` means torchvision's ImageNet checkpoint for the architecture
// (vgg16, mobilenet_v2, resnet18; hub/catalog.h), downloaded on first use
// (hub/fetch.h) and converted to safetensors with nib's own .pth reader:
//
//   <cache>/pretrained/vgg16-397923af.safetensors
//     __metadata__: arch=vgg16, padding=torch, preprocess=torch,
//                   source=vgg16-397923af.pth, source_sha256=397923af...
//
// The conversion loads the tensors into the architecture strictly first, so a
// file that would not load is never written. The downloaded .pth is removed
// afterwards (keeping both would double the space, 1.1 GB for VGG16). A .pth
// someone put in the cache or the data dir by hand is checked against the
// published SHA-256 first; one in the data dir is left where it is.
#pragma once

#include <string>

#include "hub/catalog.h"

namespace nib::models {

// "imagenet" -> imagenet_weights(arch); any other value is a file and is
// returned unchanged.
std::string resolve_weights(const std::string& arch, const std::string& weights);

// The converted ImageNet weights of `arch`, downloaded and converted when needed.
std::string imagenet_weights(const std::string& arch);

// Where converted weights live under a data folder or the cache:
// "pretrained/vgg16-397923af.safetensors".
std::string converted_path(const hub::KnownItem& item);

// The converted file when it is on this machine already, else "".
std::string locate_converted(const hub::KnownItem& item);

// The conversion step of imagenet_weights: reads `checkpoint` (.pth, or any
// file read_weights reads), loads it into `arch` strictly, and writes `out`
// (atomically) with the metadata above; `source` is the published file it came
// from. Errors name the checkpoint; `out` is then not written.
void convert_checkpoint(const std::string& arch, const hub::KnownFile& source, const std::string& checkpoint,
                        const std::string& out);

}  // namespace nib::models
