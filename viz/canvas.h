// Canvas: an RGB image in memory with the few drawing primitives that charts
// need, and PNG output.
//
// Coordinates are pixels, x to the right and y down, (0, 0) the top-left
// corner. Integer primitives (rectangles, text, images) cover whole pixels;
// lines and circles take real coordinates, pixel (x, y) having its centre at
// (x + 0.5, y + 0.5), and are anti-aliased: a pixel's coverage by the shape
// is used to blend the colour in, which is what makes thin diagonal curves
// look smooth. Everything is clipped to the canvas, so callers may draw
// partly outside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "viz/color.h"

namespace nib::viz {

enum class HAlign { Left, Center, Right };
// Vertical alignment of text on its capital letters (descenders hang below),
// so that "Top" touches y and "Middle" looks centred on y.
enum class VAlign { Top, Middle, Bottom };

struct TextStyle {
  int scale = 1;  // 1..3: each font pixel becomes a scale x scale block
  HAlign halign = HAlign::Left;
  VAlign valign = VAlign::Top;
  bool vertical = false;  // rotated 90 degrees counter-clockwise (reads bottom to top), for y-axis labels
};

struct TextSize {
  int width = 0, height = 0;  // height of capitals and descenders of all lines
};

// A float image to draw: element (c, y, x) lives at
// data[(c * height + y) * width + x] (CHW, as in tensors) or
// data[(y * width + x) * channels + c] (HWC, as in image files).
// Values are in [0, 1]; 1 channel is gray, 3 are RGB.
struct ImageView {
  const float* data = nullptr;
  int channels = 1, height = 0, width = 0;
  bool channels_last = false;
  float at(int c, int y, int x) const {
    return channels_last ? data[(static_cast<size_t>(y) * width + x) * channels + c]
                         : data[(static_cast<size_t>(c) * height + y) * width + x];
  }
};

enum class Resample { Nearest, Bilinear };

class Canvas {
 public:
  Canvas(int width, int height, Color background = kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  // Row-major RGB bytes, 3 per pixel.
  const std::vector<uint8_t>& pixels() const { return pixels_; }
  Color pixel(int x, int y) const;  // throws outside the canvas

  void set_pixel(int x, int y, Color c);                   // ignored outside the canvas (or clip box)
  void blend_pixel(int x, int y, Color c, double alpha);   // alpha in [0, 1]

  // Drawing is limited to this box until reset_clip(); charts use it to keep
  // lines inside the plot area. Reading pixels is not affected.
  void set_clip(int x, int y, int w, int h);
  void reset_clip() { set_clip(0, 0, width_, height_); }

  void fill(Color c);
  void fill_rect(int x, int y, int w, int h, Color c);
  void draw_rect(int x, int y, int w, int h, Color c, int thickness = 1);  // outline, inside the box

  // A straight segment of the given width with round ends.
  void draw_line(double x0, double y0, double x1, double y1, Color c, double width = 1.0);
  // Connected segments through the points. dash > 0 draws dashes of that
  // length (and gaps of 0.6 of it) measured along the whole line, so the
  // pattern runs on smoothly through the corners.
  void draw_polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c, double width = 1.0,
                     double dash = 0.0);
  void fill_circle(double cx, double cy, double radius, Color c);

  // Text in the built-in font (viz/font.h). '\n' starts a new line.
  void draw_text(const std::string& text, int x, int y, Color c, const TextStyle& style = {});

  // Draws `image` scaled to fill the box (x, y, w, h).
  void blit(const ImageView& image, int x, int y, int w, int h, Resample resample = Resample::Bilinear);

  // Writes a PNG. The file is first written next to the target and then
  // renamed over it, so a reader never sees a half-written picture.
  void save_png(const std::string& path) const;

 private:
  bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }
  bool drawable(int x, int y) const { return x >= clip_x0_ && y >= clip_y0_ && x < clip_x1_ && y < clip_y1_; }
  int width_, height_;
  int clip_x0_ = 0, clip_y0_ = 0, clip_x1_ = 0, clip_y1_ = 0;
  std::vector<uint8_t> pixels_;
};

// The box the text would cover when drawn with the given scale (alignment and
// direction do not change the size; vertical text swaps width and height).
TextSize measure_text(const std::string& text, int scale = 1);

// Shortens text to at most max_width pixels at the scale, ending it with ".."
// when something had to be cut.
std::string fit_text(const std::string& text, int max_width, int scale = 1);

}  // namespace nib::viz
