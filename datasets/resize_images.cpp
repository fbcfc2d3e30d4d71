#include "datasets/resize_images.h"

#include <algorithm>

#include "util/image.h"

namespace nib::data {

Dataset resize_images(const Dataset& set, int64_t size) {
  NIB_CHECK(size >= 1, "resize_images: size must be positive, got ", size);
  if (set.size() == 0 || (set.images.size(2) == size && set.images.size(3) == size)) return set;
  const int64_t n = set.size(), c = set.images.size(1), h = set.images.size(2), w = set.images.size(3);
  Tensor in = set.images.cpu();
  Tensor out = Tensor::empty({n, c, size, size});
  const float* src = in.data();
  float* dst = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    // CHW planes -> an HWC Image -> resized -> CHW planes.
    Image image(static_cast<int>(w), static_cast<int>(h), static_cast<int>(c));
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) image.pixels[p * c + ch] = src[(i * c + ch) * h * w + p];
    Image resized = resize(image, static_cast<int>(size), static_cast<int>(size));
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < size * size; ++p) dst[(i * c + ch) * size * size + p] = resized.pixels[p * c + ch];
  }
  Dataset result = set;
  result.images = out;
  return result;
}

}  // namespace nib::data
