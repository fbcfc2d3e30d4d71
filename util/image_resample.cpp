#include "util/image_resample.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <vector>

#include "util/error.h"

namespace nib {

namespace {

// PIL's precompute_coeffs for the bilinear (triangle) filter: for each output
// position, the first source index and the normalised weights.
struct Taps {
  std::vector<int> first, count;
  std::vector<double> weights;  // count[i] weights per output, at stride `support_max`
  int stride = 0;
};

Taps compute_taps(int in_size, int out_size) {
  double scale = static_cast<double>(in_size) / out_size;
  double filter_scale = std::max(scale, 1.0);
  double support = 1.0 * filter_scale;  // the triangle filter's support is 1
  Taps t;
  t.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.stride, 0.0);
  for (int o = 0; o < out_size; ++o) {
    double center = (o + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    double total = 0.0;
    double* w = &t.weights[static_cast<size_t>(o) * t.stride];
    for (int x = lo; x < hi; ++x) {
      double arg = std::fabs((x - center + 0.5) / filter_scale);
      w[x - lo] = arg < 1.0 ? 1.0 - arg : 0.0;
      total += w[x - lo];
    }
    for (int x = 0; x < hi - lo; ++x) w[x] = total > 0 ? w[x] / total : 0.0;
    t.first[o] = lo;
    t.count[o] = hi - lo;
  }
  return t;
}

float to_8bit(double v) { return static_cast<float>(std::clamp(std::round(v * 255.0), 0.0, 255.0) / 255.0); }

// One pass along x (horizontal = true) or y.
Image resample(const Image& src, int out_size, bool horizontal) {
  int in_size = horizontal ? src.width : src.height;
  Taps taps = compute_taps(in_size, out_size);
  Image dst;
  dst.width = horizontal ? out_size : src.width;
  dst.height = horizontal ? src.height : out_size;
  dst.channels = src.channels;
  dst.pixels.assign(static_cast<size_t>(dst.width) * dst.height * dst.channels, 0.0f);
  const int C = src.channels;
#pragma omp parallel for
  for (int y = 0; y < dst.height; ++y) {
    for (int x = 0; x < dst.width; ++x) {
      int o = horizontal ? x : y;
      const double* w = &taps.weights[static_cast<size_t>(o) * taps.stride];
      for (int c = 0; c < C; ++c) {
        double sum = 0.0;
        for (int k = 0; k < taps.count[o]; ++k) {
          int sx = horizontal ? taps.first[o] + k : x, sy = horizontal ? y : taps.first[o] + k;
          sum += w[k] * src.pixels[(static_cast<size_t>(sy) * src.width + sx) * C + c];
        }
        dst.pixels[(static_cast<size_t>(y) * dst.width + x) * C + c] = to_8bit(sum);
      }
    }
  }
  return dst;
}

int python_round(double v) {
  // Python's round() rounds halves to even; nearbyint does too in the default rounding mode.
  return static_cast<int>(std::nearbyint(v));
}

}  // namespace

Image resize_pil_bilinear(const Image& src, int out_width, int out_height) {
  NIB_CHECK(out_width > 0 && out_height > 0 && src.width > 0 && src.height > 0, "resize: empty image or size");
  Image out = src;
  if (out.width != out_width) out = resample(out, out_width, /*horizontal=*/true);
  if (out.height != out_height) out = resample(out, out_height, /*horizontal=*/false);
  return out;
}

Image crop(const Image& src, int x0, int y0, int x1, int y1) {
  NIB_CHECK(0 <= x0 && x0 < x1 && x1 <= src.width && 0 <= y0 && y0 < y1 && y1 <= src.height, "crop: box (", x0, ",",
            y0, ")-(", x1, ",", y1, ") is not inside a ", src.width, "x", src.height, " image");
  Image out;
  out.width = x1 - x0;
  out.height = y1 - y0;
  out.channels = src.channels;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * out.channels);
  for (int y = 0; y < out.height; ++y)
    std::copy_n(&src.pixels[(static_cast<size_t>(y + y0) * src.width + x0) * src.channels],
                static_cast<size_t>(out.width) * src.channels,
                &out.pixels[static_cast<size_t>(y) * out.width * out.channels]);
  return out;
}

Image center_crop_fraction(const Image& src, double fraction) {
  NIB_CHECK(fraction > 0.0 && fraction <= 1.0, "center crop: fraction must be in (0, 1], got ", fraction);
  if (fraction == 1.0) return src;
  double W = src.width, H = src.height;
  return crop(src, python_round(W * (1 - fraction) / 2), python_round(H * (1 - fraction) / 2),
              python_round(W * (1 + fraction) / 2), python_round(H * (1 + fraction) / 2));
}

}  // namespace nib
