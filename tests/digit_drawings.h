// Synthetic digits for the tests of MNIST-style preparation: rings ("0") and
// strokes drawn on paper of any colour, size and texture, so each test says
// exactly what it draws instead of depending on a file.
#pragma once

#include <algorithm>
#include <cmath>

#include "tensor/random.h"
#include "util/image.h"

namespace nib::testing {

// A w x h gray canvas of `paper`, optionally with uniform noise of +-texture
// (paper grain, JPEG noise), reproducible from the seed.
inline Image paper(int w, int h, float value, float texture = 0.0f, uint64_t seed = 5) {
  Image image(w, h, 1, value);
  if (texture > 0) {
    Generator gen(seed);
    for (float& v : image.pixels) v = std::clamp(v + texture * (2 * gen.uniform() - 1), 0.0f, 1.0f);
  }
  return image;
}

// A ring centred at (cx, cy) with radii rx, ry (to the middle of the stroke),
// `width` pixels wide, painted with `ink`.
inline void draw_ring(Image& image, double cx, double cy, double rx, double ry, double width, float ink) {
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry, r = std::hypot(dx, dy);
      // Along the ray from the centre, the ring is at r = 1, and one unit of r
      // is this many pixels:
      double pixels_per_unit = r > 0 ? std::hypot(dx * rx, dy * ry) / r : std::min(rx, ry);
      if (std::fabs(r - 1.0) * pixels_per_unit <= width / 2) image.at(y, x, 0) = ink;
    }
}

// A straight stroke from (x0, y0) to (x1, y1), `width` pixels wide.
inline void draw_line(Image& image, double x0, double y0, double x1, double y1, double width, float ink) {
  double length = std::hypot(x1 - x0, y1 - y0);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      double px = x + 0.5 - x0, py = y + 0.5 - y0;
      double t = std::clamp((px * (x1 - x0) + py * (y1 - y0)) / (length * length), 0.0, 1.0);
      if (std::hypot(px - t * (x1 - x0), py - t * (y1 - y0)) <= width / 2) image.at(y, x, 0) = ink;
    }
}

// A "7" as people draw it in a paint program: black on white, off-centre.
inline Image drawn_seven(int w = 60, int h = 50, double width = 3) {
  Image image = paper(w, h, 1.0f);
  draw_line(image, 8, 6, 30, 6, width, 0.0f);
  draw_line(image, 30, 6, 16, 40, width, 0.0f);
  return image;
}

// The centre of mass of a gray image, in pixel coordinates (centres at +0.5).
struct Point {
  double x = 0, y = 0;
};
inline Point centre_of_mass(const Image& gray) {
  double mass = 0, mx = 0, my = 0;
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) {
      double v = gray.at(y, x, 0);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  return mass > 0 ? Point{mx / mass, my / mass} : Point{};
}

inline double mean_abs_difference(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::fabs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

}  // namespace nib::testing
