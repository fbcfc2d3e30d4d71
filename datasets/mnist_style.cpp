#include "datasets/mnist_style.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <vector>

#include "util/error.h"
#include "util/image_resample.h"

namespace nib::data {

namespace {

// Strokes thinner than this (in pixels of a 20-pixel box) are widened before
// shrinking: MNIST's strokes are about 2 pixels wide at that size
// (stroke_width() gives 1.9 on average on its test digits), and a pen line
// photographed at 12 megapixels would otherwise shrink to a faint trace.
constexpr double kMinStrokeWidthIn20Box = 1.5;

void check_gray(const Image& image, const char* what) {
  NIB_CHECK(image.channels == 1, what, ": expected a gray image, got ", image.channels, " channels");
  NIB_CHECK(!image.pixels.empty(), what, ": empty image");
}

// The value below which a fraction q of `values` lie (values is reordered).
float quantile(std::vector<float>& values, double q) {
  size_t k = std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

std::vector<float> border_pixels(const Image& gray) {
  std::vector<float> border;
  for (int x = 0; x < gray.width; ++x) {
    border.push_back(gray.at(0, x, 0));
    if (gray.height > 1) border.push_back(gray.at(gray.height - 1, x, 0));
  }
  for (int y = 1; y + 1 < gray.height; ++y) {
    border.push_back(gray.at(y, 0, 0));
    if (gray.width > 1) border.push_back(gray.at(y, gray.width - 1, 0));
  }
  return border;
}

// Otsu's threshold: the level that best splits the histogram into two classes
// (the one maximising the variance between the class means).
float otsu_threshold(const std::vector<float>& pixels) {
  constexpr int kBins = 256;
  std::array<double, kBins> histogram{};
  for (float v : pixels) histogram[std::clamp(static_cast<int>(v * (kBins - 1) + 0.5f), 0, kBins - 1)] += 1;
  double total = static_cast<double>(pixels.size()), sum_all = 0;
  for (int i = 0; i < kBins; ++i) sum_all += i * histogram[i];
  double below = 0, sum_below = 0, best = -1;
  int best_bin = kBins - 1;
  for (int i = 0; i < kBins - 1; ++i) {
    below += histogram[i];
    sum_below += i * histogram[i];
    double above = total - below;
    if (below == 0 || above == 0) continue;
    double gap = sum_below / below - (sum_all - sum_below) / above;
    double between = below * above * gap * gap;
    if (between > best) {
      best = between;
      best_bin = i;
    }
  }
  return (best_bin + 0.5f) / (kBins - 1);
}

bool above(const Image& gray, int y, int x, float threshold) {
  return x >= 0 && y >= 0 && x < gray.width && y < gray.height && gray.at(y, x, 0) > threshold;
}

// Max filter of radius r along rows (horizontal) or columns. A window's
// maximum comes from a queue of the positions that can still be one (each
// smaller than the one before it), so the cost does not grow with r: a
// photographed pen line may need r = 50.
Image max_filter_1d(const Image& gray, int r, bool horizontal) {
  Image out = gray;
  const int lines = horizontal ? gray.height : gray.width, length = horizontal ? gray.width : gray.height;
  auto value = [&](int line, int i) { return horizontal ? gray.at(line, i, 0) : gray.at(i, line, 0); };
  std::deque<int> candidates;
  for (int line = 0; line < lines; ++line) {
    candidates.clear();
    for (int i = 0, next = 0; i < length; ++i) {
      for (; next < length && next <= i + r; ++next) {  // the window's new right end
        while (!candidates.empty() && value(line, candidates.back()) <= value(line, next)) candidates.pop_back();
        candidates.push_back(next);
      }
      while (candidates.front() < i - r) candidates.pop_front();  // left the window
      (horizontal ? out.at(line, i, 0) : out.at(i, line, 0)) = value(line, candidates.front());
    }
  }
  return out;
}

}  // namespace

Image flatten_alpha(const Image& image) {
  if (image.channels != 2 && image.channels != 4) return image;
  const int colours = image.channels - 1;
  Image out(image.width, image.height, colours);
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t p = 0; p < pixels; ++p) {
    float alpha = image.pixels[p * image.channels + colours];
    for (int c = 0; c < colours; ++c)
      out.pixels[p * colours + c] = image.pixels[p * image.channels + c] * alpha + (1.0f - alpha);
  }
  return out;
}

bool has_light_background(const Image& gray) {
  check_gray(gray, "has_light_background");
  // The ink is what differs from the border: darker than it on paper, lighter
  // on a blackboard. Noise and texture go both ways and cancel out.
  std::vector<float> border = border_pixels(gray);
  float background = quantile(border, 0.5);
  double darker = 0, lighter = 0;
  for (float v : gray.pixels) (v < background ? darker : lighter) += std::fabs(v - background);
  return darker > lighter;
}

Image invert(const Image& image) {
  Image out = image;
  for (float& v : out.pixels) v = 1.0f - v;
  return out;
}

InkLevels measure_ink(const Image& gray) {
  check_gray(gray, "measure_ink");
  InkLevels levels;
  // The background is what most pixels are: the median, or the border's median
  // when a bold digit covers most of a tightly cropped image.
  std::vector<float> all = gray.pixels, border = border_pixels(gray);
  float border_median = quantile(border, 0.5);
  levels.background = std::min(quantile(all, 0.5), border_median);
  for (float& v : border) v = std::fabs(v - border_median);
  levels.noise = 1.4826f * quantile(border, 0.5);
  levels.threshold = std::max(otsu_threshold(gray.pixels), levels.background);
  std::vector<float> ink;
  for (float v : gray.pixels)
    if (v > levels.threshold) ink.push_back(v);
  // A stroke's core, not its anti-aliased edge nor the odd bright speck.
  levels.ink = ink.empty() ? levels.background : quantile(ink, 0.9);
  return levels;
}

Image stretch_levels(const Image& gray, const InkLevels& levels) {
  check_gray(gray, "stretch_levels");
  const float zero = levels.paper(), range = std::max(levels.ink - zero, 1e-6f);
  Image out = gray;
  for (float& v : out.pixels) v = std::clamp((v - zero) / range, 0.0f, 1.0f);
  return out;
}

InkBox find_ink(const Image& gray, float threshold) {
  check_gray(gray, "find_ink");
  InkBox box{gray.width, gray.height, 0, 0};
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) {
      if (!above(gray, y, x, threshold)) continue;
      bool has_neighbour = false;
      for (int dy = -1; dy <= 1 && !has_neighbour; ++dy)
        for (int dx = -1; dx <= 1 && !has_neighbour; ++dx)
          has_neighbour = (dx || dy) && above(gray, y + dy, x + dx, threshold);
      if (!has_neighbour) continue;
      box.x0 = std::min(box.x0, x);
      box.y0 = std::min(box.y0, y);
      box.x1 = std::max(box.x1, x + 1);
      box.y1 = std::max(box.y1, y + 1);
    }
  if (box.empty()) return InkBox{};
  return box;
}

double stroke_width(const Image& gray, float threshold) {
  check_gray(gray, "stroke_width");
  double area = 0, outline = 0;
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) {
      if (!above(gray, y, x, threshold)) continue;
      area += 1;
      outline += !above(gray, y - 1, x, threshold) + !above(gray, y + 1, x, threshold) +
                 !above(gray, y, x - 1, threshold) + !above(gray, y, x + 1, threshold);
    }
  return outline > 0 ? 2.0 * area / outline : 0.0;
}

Image thicken_strokes(const Image& gray, double min_width) {
  double width = stroke_width(gray);
  if (width == 0 || width >= min_width) return gray;
  // A max filter of radius r widens every stroke by 2r.
  int r = static_cast<int>(std::ceil((min_width - width) / 2));
  return max_filter_1d(max_filter_1d(gray, r, /*horizontal=*/true), r, /*horizontal=*/false);
}

Image fit_into_box(const Image& gray, int box) {
  check_gray(gray, "fit_into_box");
  NIB_CHECK(box >= 1, "fit_into_box: the box must be at least 1 pixel, got ", box);
  int longer = std::max(gray.width, gray.height);
  auto scaled = [&](int side) { return std::max(1, static_cast<int>(std::lround(double(side) * box / longer))); };
  return resize_pil_bilinear(gray, scaled(gray.width), scaled(gray.height));
}

Image centre_by_mass(const Image& gray, int frame) {
  check_gray(gray, "centre_by_mass");
  NIB_CHECK(gray.width <= frame && gray.height <= frame, "centre_by_mass: a ", gray.width, "x", gray.height,
            " image does not fit a ", frame, "x", frame, " frame");
  double mass = 0, mx = 0, my = 0;
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) {
      double v = gray.at(y, x, 0);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  double cx = mass > 0 ? mx / mass : gray.width / 2.0, cy = mass > 0 ? my / mass : gray.height / 2.0;
  // MNIST put the centre of mass on pixel (14, 14) of its 28x28 frame, whose
  // centre is at 14.5 in these coordinates: half a pixel right of and below
  // the frame's middle (its test digits' centres of mass average 14.5).
  double target = frame / 2 + 0.5;
  int ox = std::clamp(static_cast<int>(std::lround(target - cx)), 0, frame - gray.width);
  int oy = std::clamp(static_cast<int>(std::lround(target - cy)), 0, frame - gray.height);
  Image out(frame, frame, 1, 0.0f);
  for (int y = 0; y < gray.height; ++y)
    for (int x = 0; x < gray.width; ++x) out.at(y + oy, x + ox, 0) = gray.at(y, x, 0);
  return out;
}

Image prepare_digit(const Image& image, const DigitFrame& frame, const std::string& name) {
  NIB_CHECK(frame.box >= 1 && frame.box <= frame.frame, name, ": a ", frame.box, "-pixel box does not fit a ",
            frame.frame, "-pixel frame");
  Image gray = to_gray(flatten_alpha(image));
  if (has_light_background(gray)) gray = invert(gray);
  InkLevels levels = measure_ink(gray);
  NIB_CHECK(levels.has_ink(), name, ": no digit found: the image is blank, or its ink differs from the paper by ",
            std::lround(255 * std::max(0.0f, levels.ink - levels.paper())), " grey levels (at least ",
            std::lround(255 * InkLevels::kMinContrast), " needed)");
  Image ink = stretch_levels(gray, levels);
  InkBox box = find_ink(ink);
  NIB_CHECK(!box.empty(), name, ": no digit found: only isolated specks stand out from the background");

  double scale = static_cast<double>(frame.box) / std::max(box.width(), box.height());
  double min_width = kMinStrokeWidthIn20Box * frame.box / 20.0 / scale;  // in this image's pixels
  Image cropped = crop(ink, box.x0, box.y0, box.x1, box.y1);
  if (stroke_width(cropped) < min_width) {
    // Widened strokes grow by less than min_width on each side: only that
    // margin around the ink needs the (slow, on a big photo) filter.
    int margin = static_cast<int>(std::ceil(min_width));
    Image around = crop(ink, std::max(0, box.x0 - margin), std::max(0, box.y0 - margin),
                        std::min(ink.width, box.x1 + margin), std::min(ink.height, box.y1 + margin));
    around = thicken_strokes(around, min_width);
    box = find_ink(around);
    cropped = crop(around, box.x0, box.y0, box.x1, box.y1);
  }
  Image digit = centre_by_mass(fit_into_box(cropped, frame.box), frame.frame);
  return frame.light_ink ? digit : invert(digit);
}

}  // namespace nib::data
