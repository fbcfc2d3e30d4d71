// Data augmentation for small image sets: each image gets its own random
// affine transform (rotation, zoom, shift, shear) and contrast change, like
// Keras' ImageDataGenerator. Never flips: a mirrored 2 is not a 2.
#pragma once

#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace nib::data {

struct AugmentConfig {
  float rotation_deg = 0;  // angle uniform in [-rotation_deg, rotation_deg]
  float zoom = 0;          // scale per axis uniform in [1 - zoom, 1 + zoom]
  float shift = 0;         // translation uniform in [-shift, shift] * width (or height)
  float shear_deg = 0;     // shear angle uniform in [-shear_deg, shear_deg]
  float contrast = 0;      // contrast factor uniform in [1 - contrast, 1 + contrast]

  bool any() const { return rotation_deg > 0 || zoom > 0 || shift > 0 || shear_deg > 0 || contrast > 0; }

  // "rotate=10,zoom=0.1,shift=0.1,shear=5,contrast=0.2"; "digits" is the
  // preset rotate=10,zoom=0.1,shift=0.1; "none" or "" is no augmentation.
  // A preset may be followed by overrides: "digits,contrast=0.2".
  // Unknown keys and out-of-range values are errors.
  static AugmentConfig parse(const std::string& spec);
  std::string str() const;  // the same syntax, or "none"
};

// Returns a new [N, C, H, W] batch in which image n is transformed with random
// numbers drawn from (seed, first_row + n): the same seed gives the same batch.
// `first_row` is where the batch starts within a larger one (a rank's shard
// of a global batch), so each image is transformed the same however the
// batch is cut. Each output
// pixel is sampled bilinearly at its inverse-mapped position; positions outside
// the image take the image's background (the mean of its border pixels).
// With !config.any() the input is returned unchanged.
Tensor augment_batch(const Tensor& batch, const AugmentConfig& config, uint64_t seed, int64_t first_row = 0);

}  // namespace nib::data
