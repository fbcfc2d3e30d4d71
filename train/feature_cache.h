// --cache-features: with the base frozen and no augmentation, the base maps
// each image to the same features in every epoch, so compute them once and
// train the head on them. On a CPU the base is nearly all the work (MobileNetV2
// at 96x96: ~70 MFLOP per image; a gap,dense128 head: ~0.2 MFLOP), so each
// epoch after the first pass costs almost nothing.
//
// The result equals training through the frozen base: the base is in eval
// mode either way (frozen BatchNorm uses running statistics, models/transfer.h),
// so frozen_features(x) is what forward(x) feeds the trainable layers.
#pragma once

#include <cstdint>

#include "datasets/dataset.h"
#include "models/transfer.h"

namespace nib::distributed {
class Communicator;
}

namespace nib::train {

// The set with images replaced by model.frozen_features(images) ([N, C] after
// gap, [N, C, H, W] without), computed in batches on `device` without autograd;
// labels and class names kept. Throws if any base parameter is trainable.
// With `comm`, each rank computes its block of the rows and every rank gets
// all of them.
data::Dataset cache_features(models::Transfer& model, const data::Dataset& set, Device device,
                             int64_t batch_size = 100, bool quiet = false, distributed::Communicator* comm = nullptr);

}  // namespace nib::train
