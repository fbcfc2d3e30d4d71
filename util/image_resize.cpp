// Geometric image operations: resize, resize the shorter side, center crop.
// They follow torchvision exactly so that a model trained with PyTorch
// preprocessing sees the same pixels here (tests/fixtures/resize checks it).
#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/image.h"

namespace nib {

namespace {

// For one axis: output index i reads inputs lo[i] and lo[i] + step[i] with
// weights 1 - frac[i] and frac[i]. This is PyTorch's
// area_pixel_compute_source_index for align_corners=False: the source
// coordinate of an output pixel centre is (i + 0.5) * in/out - 0.5, clamped at
// 0 (so the first pixels copy the edge). Matching PyTorch to the last bit needs
// its precision too: the ratio in/out is a float, the coordinate is then
// computed in double (measured against torch 1.13: computing it in float
// drifts by up to 1e-6 at the far edge of a 50 -> 28 resize).
struct AxisWeights {
  std::vector<int> lo, step;
  std::vector<float> frac;
};

AxisWeights axis_weights(int in, int out) {
  AxisWeights w;
  w.lo.resize(out);
  w.step.resize(out);
  w.frac.resize(out);
  const double scale = static_cast<float>(in) / static_cast<float>(out);
  for (int i = 0; i < out; ++i) {
    double src = std::max(scale * (i + 0.5) - 0.5, 0.0);
    int lo = static_cast<int>(src);  // truncation == floor, src >= 0
    w.lo[i] = lo;
    w.step[i] = lo < in - 1 ? 1 : 0;  // the last input has no right neighbour
    w.frac[i] = static_cast<float>(src - lo);
  }
  return w;
}

}  // namespace

Image resize(const Image& image, int width, int height) {
  NIB_CHECK(width > 0 && height > 0, "resize: target size must be positive, got ", width, "x", height);
  NIB_CHECK(!image.pixels.empty(), "resize: empty image");
  if (width == image.width && height == image.height) return image;
  const AxisWeights wx = axis_weights(image.width, width), wy = axis_weights(image.height, height);
  const int C = image.channels;
  Image out(width, height, C);
  for (int y = 0; y < height; ++y) {
    const int y0 = wy.lo[y], y1 = y0 + wy.step[y];
    const float fy = wy.frac[y];
    for (int x = 0; x < width; ++x) {
      const int x0 = wx.lo[x], x1 = x0 + wx.step[x];
      const float fx = wx.frac[x];
      for (int c = 0; c < C; ++c) {
        // The same order of operations as PyTorch's CPU kernel: blend along x, then along y.
        float top = (1.0f - fx) * image.at(y0, x0, c) + fx * image.at(y0, x1, c);
        float bottom = (1.0f - fx) * image.at(y1, x0, c) + fx * image.at(y1, x1, c);
        out.at(y, x, c) = (1.0f - fy) * top + fy * bottom;
      }
    }
  }
  return out;
}

Image resize_shorter_side(const Image& image, int size) {
  NIB_CHECK(size > 0, "resize_shorter_side: size must be positive, got ", size);
  const int w = image.width, h = image.height;
  if (w <= h) return resize(image, size, static_cast<int>(static_cast<int64_t>(size) * h / w));
  return resize(image, static_cast<int>(static_cast<int64_t>(size) * w / h), size);
}

Image center_crop(const Image& image, int width, int height) {
  NIB_CHECK(width > 0 && height > 0 && width <= image.width && height <= image.height, "center_crop: cannot cut ",
            width, "x", height, " out of a ", image.width, "x", image.height, " image");
  // std::nearbyint rounds half to even under the default rounding mode, like Python's round().
  const int left = static_cast<int>(std::nearbyint((image.width - width) / 2.0));
  const int top = static_cast<int>(std::nearbyint((image.height - height) / 2.0));
  Image out(width, height, image.channels);
  const size_t row = static_cast<size_t>(width) * image.channels;
  for (int y = 0; y < height; ++y) {
    const float* src = &image.pixels[(static_cast<size_t>(top + y) * image.width + left) * image.channels];
    std::copy(src, src + row, &out.pixels[static_cast<size_t>(y) * row]);
  }
  return out;
}

}  // namespace nib
