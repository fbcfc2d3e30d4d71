// Resizing the way PIL does it (Image.resize(..., BILINEAR)), which is what
// pretrained-model pipelines in Python feed their networks. Unlike a plain
// bilinear lookup (torch.nn.functional.interpolate without antialias), PIL
// widens the triangle filter by the downscaling factor, so every source pixel
// contributes: shrinking a 500-pixel photo to 224 averages ~2.2 pixels per
// tap instead of sampling two and skipping the rest. Accuracy of a pretrained
// classifier depends on matching this (see docs and tests).
//
// Like PIL on 8-bit images, each pass rounds to 8 bits, so results match
// PIL's to within one grey level.
#pragma once

#include "util/image.h"

namespace nib {

Image resize_pil_bilinear(const Image& src, int out_width, int out_height);

// The central `fraction` of each side, with PIL's crop-box rounding
// (Python's round-half-to-even), as `im.crop((W*(1-f)/2, H*(1-f)/2, W*(1+f)/2, H*(1+f)/2))`.
Image center_crop_fraction(const Image& src, double fraction);

// The rectangle [x0, x1) x [y0, y1), which must lie inside the image.
Image crop(const Image& src, int x0, int y0, int x1, int y1);

}  // namespace nib
