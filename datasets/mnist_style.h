// MNIST-style preparation of a digit someone drew or photographed, so that a
// model trained on MNIST sees the kind of picture it was trained on.
//
// MNIST's digits are light ink on a black background, scaled (keeping their
// aspect ratio) so that their longer side fills a 20x20 box, and placed in a
// 28x28 frame so that their centre of mass is the frame's centre. A drawing in
// a paint program is dark ink on white, of any size, anywhere on the page; a
// model that scores 99% on MNIST gets a third of such drawings right until they
// are prepared the same way:
//
//   flatten_alpha      transparent pixels become white paper
//   to_gray            (util/image.h)
//   has_light_background / invert   dark ink on light paper becomes light on dark
//   measure_ink        background and ink levels, robust to paper texture and
//                      JPEG noise; too little contrast means there is no digit
//   stretch_levels     background to 0, ink to 1, as in MNIST
//   find_ink           the box around the ink, ignoring lone specks
//   thicken_strokes    thin pen lines would vanish when a photo is shrunk
//   fit_into_box       the ink, scaled so its longer side is `box`
//   centre_by_mass     placed in the frame with its centre of mass in the middle
//
// prepare_digit() chains them. Every image is gray, values in [0, 1].
#pragma once

#include <string>

#include "util/image.h"

namespace nib::data {

// The look of a model's training digits: MNIST's is the default.
struct DigitFrame {
  int frame = 28;          // side of the square output
  int box = 20;            // the ink's longer side is scaled to this
  bool light_ink = true;   // light ink on a dark background (MNIST); false: dark on light
};

// Gray or RGB without alpha: each pixel composited over white by its alpha.
// Images without alpha are returned as they are.
Image flatten_alpha(const Image& image);

// True when the image's border is mostly light: paper, so the ink is dark.
bool has_light_background(const Image& gray);

// 1 - v in every channel.
Image invert(const Image& image);

// Levels of an image of light ink on a dark background.
struct InkLevels {
  float background = 0;  // the typical background value (the median pixel)
  float noise = 0;       // the paper's grain and JPEG noise: the spread of the border
                         // (1.4826 x its median absolute deviation, a robust standard deviation)
  float ink = 1;         // the typical value of a stroke's core
  float threshold = 0.5; // pixels above it are ink (Otsu's threshold)
  // The brightest plain paper: three times the noise above the background.
  float paper() const { return background + 3 * noise; }
  // Ink that stands out from the paper by less than this is texture, shadow
  // or noise, not a digit.
  static constexpr float kMinContrast = 0.2f;
  bool has_ink() const { return ink - paper() >= kMinContrast; }
};
InkLevels measure_ink(const Image& gray);

// (v - paper) / (ink - paper), clamped to [0, 1]: the paper and its grain
// become black, as MNIST's background is, and the strokes' cores white.
Image stretch_levels(const Image& gray, const InkLevels& levels);

// The half-open box [x0, x1) x [y0, y1) around the pixels above `threshold`
// that have at least one neighbour above it too (a lone speck of noise does
// not stretch the box). Empty (x0 == x1) when there are none.
struct InkBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};
InkBox find_ink(const Image& gray, float threshold = 0.5f);

// The mean width of the strokes above `threshold`, in pixels: twice the ink
// area over the length of the ink's outline (a stroke of width w and length L
// has area w*L and an outline of about 2L). 0 for an image without ink.
double stroke_width(const Image& gray, float threshold = 0.5f);

// Strokes widened (a max filter of radius r) until they are at least
// `min_width` pixels wide; strokes that are wide enough are left alone.
Image thicken_strokes(const Image& gray, double min_width);

// The image (already cropped to its ink) scaled so that its longer side is
// `box` pixels, keeping the aspect ratio (PIL's bilinear filter, which
// averages every source pixel when it shrinks).
Image fit_into_box(const Image& gray, int box);

// The image placed in a frame x frame black square so that its centre of mass
// falls on the frame's centre pixel, (14, 14) in 28x28 as in MNIST (shifted
// by whole pixels, and never so far that ink falls off the frame). An image
// without mass is centred by its box.
Image centre_by_mass(const Image& gray, int frame);

// Every step above, in order. `name` (the file) starts error messages; an
// image without a digit is an error saying so.
Image prepare_digit(const Image& image, const DigitFrame& frame = {}, const std::string& name = "image");

}  // namespace nib::data
