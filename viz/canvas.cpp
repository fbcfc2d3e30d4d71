#include "viz/canvas.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "util/error.h"
#include "viz/font.h"

namespace nib::viz {

Canvas::Canvas(int width, int height, Color background) : width_(width), height_(height) {
  NIB_CHECK(width > 0 && height > 0 && width <= 32768 && height <= 32768, "Canvas: size ", width, "x", height,
            " is not in 1..32768");
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  reset_clip();
  fill(background);
}

void Canvas::set_clip(int x, int y, int w, int h) {
  clip_x0_ = std::clamp(x, 0, width_), clip_y0_ = std::clamp(y, 0, height_);
  clip_x1_ = std::clamp(x + w, clip_x0_, width_), clip_y1_ = std::clamp(y + h, clip_y0_, height_);
}

Color Canvas::pixel(int x, int y) const {
  NIB_CHECK(inside(x, y), "Canvas::pixel: (", x, ", ", y, ") is outside the ", width_, "x", height_, " canvas");
  const uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  return Color{p[0], p[1], p[2]};
}

void Canvas::set_pixel(int x, int y, Color c) {
  if (!drawable(x, y)) return;
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

void Canvas::blend_pixel(int x, int y, Color c, double alpha) {
  if (!drawable(x, y) || !(alpha > 0.0)) return;
  set_pixel(x, y, mix(pixel(x, y), c, alpha));
}

void Canvas::fill(Color c) { fill_rect(0, 0, width_, height_, c); }

void Canvas::fill_rect(int x, int y, int w, int h, Color c) {
  int x_end = std::min(x + w, width_), y_end = std::min(y + h, height_);
  for (int yy = std::max(y, 0); yy < y_end; ++yy) {
    for (int xx = std::max(x, 0); xx < x_end; ++xx) set_pixel(xx, yy, c);
  }
}

void Canvas::draw_rect(int x, int y, int w, int h, Color c, int thickness) {
  thickness = std::min({thickness, (w + 1) / 2, (h + 1) / 2});
  fill_rect(x, y, w, thickness, c);
  fill_rect(x, y + h - thickness, w, thickness, c);
  fill_rect(x, y, thickness, h, c);
  fill_rect(x + w - thickness, y, thickness, h, c);
}

// ---- Anti-aliased shapes ---------------------------------------------------
//
// A pixel's coverage is estimated from the distance d between its centre and
// the shape's centre line: fully covered when d <= width/2 - 0.5, not at all
// when d >= width/2 + 0.5, linear in between. The coverage of a whole
// polyline is collected first (the maximum over its segments) and blended
// once, so that corners where two segments overlap are not painted twice.
namespace {

struct CoverageMap {
  int x0, y0, w, h;
  std::vector<float> alpha;
  CoverageMap(int x0_, int y0_, int x1, int y1) : x0(x0_), y0(y0_), w(std::max(0, x1 - x0_)), h(std::max(0, y1 - y0_)) {
    alpha.assign(static_cast<size_t>(w) * h, 0.0f);
  }
  void add(int x, int y, double a) {
    if (x < x0 || y < y0 || x >= x0 + w || y >= y0 + h || !(a > 0)) return;
    float& slot = alpha[static_cast<size_t>(y - y0) * w + (x - x0)];
    slot = std::max(slot, static_cast<float>(std::min(a, 1.0)));
  }
};

// Distance from (px, py) to the segment (ax, ay)-(bx, by).
double distance_to_segment(double px, double py, double ax, double ay, double bx, double by) {
  double dx = bx - ax, dy = by - ay;
  double length2 = dx * dx + dy * dy;
  double t = length2 > 0 ? std::clamp(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0) : 0.0;
  return std::hypot(px - (ax + t * dx), py - (ay + t * dy));
}

void cover_segment(CoverageMap& map, double ax, double ay, double bx, double by, double width) {
  double reach = width / 2 + 0.5;
  int x_begin = std::max(map.x0, static_cast<int>(std::floor(std::min(ax, bx) - reach)));
  int x_end = std::min(map.x0 + map.w, static_cast<int>(std::ceil(std::max(ax, bx) + reach)));
  int y_begin = std::max(map.y0, static_cast<int>(std::floor(std::min(ay, by) - reach)));
  int y_end = std::min(map.y0 + map.h, static_cast<int>(std::ceil(std::max(ay, by) + reach)));
  for (int y = y_begin; y < y_end; ++y) {
    for (int x = x_begin; x < x_end; ++x) {
      map.add(x, y, reach - distance_to_segment(x + 0.5, y + 0.5, ax, ay, bx, by));
    }
  }
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

void Canvas::draw_line(double x0, double y0, double x1, double y1, Color c, double width) {
  draw_polyline({x0, x1}, {y0, y1}, c, width);
}

void Canvas::draw_polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c, double width,
                           double dash) {
  NIB_CHECK(xs.size() == ys.size(), "Canvas::draw_polyline: ", xs.size(), " x values but ", ys.size(), " y values");
  NIB_CHECK(width > 0, "Canvas::draw_polyline: width must be positive, got ", width);
  // Only the polyline's bounding box (clipped to the canvas) needs a map.
  double reach = width / 2 + 1, x_min = INFINITY, y_min = INFINITY, x_max = -INFINITY, y_max = -INFINITY;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!finite(xs[i]) || !finite(ys[i])) continue;
    x_min = std::min(x_min, xs[i]), x_max = std::max(x_max, xs[i]);
    y_min = std::min(y_min, ys[i]), y_max = std::max(y_max, ys[i]);
  }
  if (x_min > x_max) return;  // no finite point
  auto clip = [](double v, int limit) { return static_cast<int>(std::clamp(v, 0.0, static_cast<double>(limit))); };
  CoverageMap map(clip(std::floor(x_min - reach), width_), clip(std::floor(y_min - reach), height_),
                  clip(std::ceil(x_max + reach), width_), clip(std::ceil(y_max + reach), height_));
  double gap = 0.6 * dash, period = dash + gap;
  double travelled = 0.0;  // along the line so far, for the dash pattern
  for (size_t i = 0; i + 1 < xs.size(); ++i) {
    double ax = xs[i], ay = ys[i], bx = xs[i + 1], by = ys[i + 1];
    if (!finite(ax) || !finite(ay) || !finite(bx) || !finite(by)) continue;
    double length = std::hypot(bx - ax, by - ay);
    if (dash <= 0 || length == 0) {
      cover_segment(map, ax, ay, bx, by, width);
    } else {
      // Walk the segment, drawing the parts that fall on a dash.
      for (double s = 0; s < length;) {
        double phase = std::fmod(travelled + s, period);
        double next = phase < dash ? std::min(length, s + dash - phase) : std::min(length, s + period - phase);
        if (phase < dash) {
          double t0 = s / length, t1 = next / length;
          cover_segment(map, ax + t0 * (bx - ax), ay + t0 * (by - ay), ax + t1 * (bx - ax), ay + t1 * (by - ay),
                        width);
        }
        s = std::max(next, s + 1e-9);  // always advance, even when rounding stalls
      }
    }
    travelled += length;
  }
  for (int y = 0; y < map.h; ++y) {
    for (int x = 0; x < map.w; ++x) blend_pixel(map.x0 + x, map.y0 + y, c, map.alpha[static_cast<size_t>(y) * map.w + x]);
  }
}

void Canvas::fill_circle(double cx, double cy, double radius, Color c) {
  if (!finite(cx) || !finite(cy) || !(radius > 0)) return;
  int x_begin = static_cast<int>(std::floor(cx - radius - 1)), x_end = static_cast<int>(std::ceil(cx + radius + 1));
  int y_begin = static_cast<int>(std::floor(cy - radius - 1)), y_end = static_cast<int>(std::ceil(cy + radius + 1));
  for (int y = y_begin; y < y_end; ++y) {
    for (int x = x_begin; x < x_end; ++x) {
      double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
      blend_pixel(x, y, c, std::clamp(radius + 0.5 - d, 0.0, 1.0));
    }
  }
}

// ---- Text ------------------------------------------------------------------

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines(1);
  for (char ch : text) {
    if (ch == '\n') {
      lines.emplace_back();
    } else {
      lines.back() += ch;
    }
  }
  return lines;
}

int line_width(const std::string& line, int scale) {
  return line.empty() ? 0 : (static_cast<int>(line.size()) * font::kAdvance - 1) * scale;
}

}  // namespace

TextSize measure_text(const std::string& text, int scale) {
  if (text.empty()) return {};
  std::vector<std::string> lines = split_lines(text);
  TextSize size;
  for (const std::string& line : lines) size.width = std::max(size.width, line_width(line, scale));
  size.height = ((static_cast<int>(lines.size()) - 1) * font::kLineHeight + font::kGlyphHeight) * scale;
  return size;
}

std::string fit_text(const std::string& text, int max_width, int scale) {
  if (measure_text(text, scale).width <= max_width) return text;
  std::string cut = text;
  while (!cut.empty() && measure_text(cut + "..", scale).width > max_width) cut.pop_back();
  return cut.empty() ? std::string() : cut + "..";
}

void Canvas::draw_text(const std::string& text, int x, int y, Color c, const TextStyle& style) {
  NIB_CHECK(style.scale >= 1 && style.scale <= 8, "Canvas::draw_text: scale ", style.scale, " is not in 1..8");
  const int s = style.scale;
  std::vector<std::string> lines = split_lines(text);
  int n = static_cast<int>(lines.size());
  // Offsets of the text box from the anchor, in the text's own frame
  // (u along the text, v down across it); vertical text rotates that frame.
  int caps_height = ((n - 1) * font::kLineHeight + font::kCapHeight) * s;
  int v0 = style.valign == VAlign::Top ? 0 : style.valign == VAlign::Middle ? -caps_height / 2 : -caps_height;
  for (int line = 0; line < n; ++line) {
    int w = line_width(lines[line], s);
    int u0 = style.halign == HAlign::Left ? 0 : style.halign == HAlign::Center ? -w / 2 : -w;
    for (size_t i = 0; i < lines[line].size(); ++i) {
      const font::Glyph& g = font::glyph(lines[line][i]);
      for (int gy = 0; gy < font::kGlyphHeight; ++gy) {
        for (int gx = 0; gx < font::kGlyphWidth; ++gx) {
          if (!font::ink(g, gx, gy)) continue;
          int u = u0 + (static_cast<int>(i) * font::kAdvance + gx) * s;
          int v = v0 + (line * font::kLineHeight + gy) * s;
          if (style.vertical) {
            fill_rect(x + v, y - u - s, s, s, c);  // u runs up the canvas
          } else {
            fill_rect(x + u, y + v, s, s, c);
          }
        }
      }
    }
  }
}

// ---- Images ----------------------------------------------------------------

namespace {

uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 1.0f) return 255;
  return static_cast<uint8_t>(std::lround(v * 255.0f));
}

// Sample channel c at real source coordinates, pixel centres at +0.5.
float sample(const ImageView& image, int c, double sx, double sy, Resample resample) {
  if (resample == Resample::Nearest) {
    int x = std::clamp(static_cast<int>(std::floor(sx)), 0, image.width - 1);
    int y = std::clamp(static_cast<int>(std::floor(sy)), 0, image.height - 1);
    return image.at(c, y, x);
  }
  double fx = std::clamp(sx - 0.5, 0.0, image.width - 1.0), fy = std::clamp(sy - 0.5, 0.0, image.height - 1.0);
  int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  int x1 = std::min(x0 + 1, image.width - 1), y1 = std::min(y0 + 1, image.height - 1);
  double tx = fx - x0, ty = fy - y0;
  double top = image.at(c, y0, x0) * (1 - tx) + image.at(c, y0, x1) * tx;
  double bottom = image.at(c, y1, x0) * (1 - tx) + image.at(c, y1, x1) * tx;
  return static_cast<float>(top * (1 - ty) + bottom * ty);
}

}  // namespace

void Canvas::blit(const ImageView& image, int x, int y, int w, int h, Resample resample) {
  NIB_CHECK(image.data != nullptr && image.width > 0 && image.height > 0, "Canvas::blit: empty image");
  NIB_CHECK(image.channels == 1 || image.channels == 3, "Canvas::blit: images need 1 (gray) or 3 (RGB) channels, got ",
            image.channels);
  if (w <= 0 || h <= 0) return;
  for (int yy = std::max(y, 0); yy < std::min(y + h, height_); ++yy) {
    double sy = (yy - y + 0.5) * image.height / h;
    for (int xx = std::max(x, 0); xx < std::min(x + w, width_); ++xx) {
      double sx = (xx - x + 0.5) * image.width / w;
      uint8_t rgb[3];
      for (int c = 0; c < 3; ++c) rgb[c] = to_byte(sample(image, image.channels == 1 ? 0 : c, sx, sy, resample));
      set_pixel(xx, yy, Color{rgb[0], rgb[1], rgb[2]});
    }
  }
}

// ---- Output ----------------------------------------------------------------

void Canvas::save_png(const std::string& path) const {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  std::error_code ec;
  NIB_CHECK(dir.empty() || fs::is_directory(dir, ec), "save_png: cannot write '", path, "': the directory '",
            dir.string(), "' does not exist");
  // The temporary sits in the same directory, so the rename cannot cross file
  // systems and is atomic.
  std::string temporary = path + ".tmp";
  if (!stbi_write_png(temporary.c_str(), width_, height_, 3, pixels_.data(), width_ * 3)) {
    fs::remove(temporary, ec);
    fail("save_png: cannot write '", path, "' (is the directory writable?)");
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    std::string reason = ec.message();
    fs::remove(temporary, ec);
    fail("save_png: cannot move the finished picture to '", path, "': ", reason);
  }
}

}  // namespace nib::viz
