#include "viz/axes.h"

#include <algorithm>
#include <cmath>

#include "viz/font.h"

namespace nib::viz {

Axis Axis::numeric(std::string label, const Ticks& ticks) {
  Axis axis;
  axis.label = std::move(label);
  axis.lo = ticks.lo, axis.hi = ticks.hi;
  axis.positions = ticks.values;
  for (double v : ticks.values) axis.tick_labels.push_back(format_tick(v, ticks.step));
  return axis;
}

Axis Axis::categories(std::string label, const std::vector<std::string>& names) {
  Axis axis;
  axis.label = std::move(label);
  axis.lo = -0.5, axis.hi = static_cast<double>(names.size()) - 0.5;
  for (size_t i = 0; i < names.size(); ++i) axis.positions.push_back(static_cast<double>(i));
  axis.tick_labels = names;
  axis.grid = false;
  return axis;
}

namespace {

int widest(const std::vector<std::string>& labels, int scale) {
  int w = 0;
  for (const std::string& label : labels) w = std::max(w, measure_text(label, scale).width);
  return w;
}

int text_height(int scale) { return font::kGlyphHeight * scale; }

}  // namespace

Axes::Axes(Rect panel, std::string title, Axis x, Axis y)
    : panel_(panel), title_(std::move(title)), x_(std::move(x)), y_(std::move(y)) {
  constexpr int pad = Theme::kPad, tick_gap = Theme::kTickLength + 4;
  int top = pad + (title_.empty() ? 0 : text_height(Theme::kTitleScale) + pad);
  int left = pad + (y_.label.empty() ? 0 : text_height(Theme::kLabelScale) + pad) +
             widest(y_.tick_labels, Theme::kTickScale) + tick_gap;
  int x_ticks_height = x_.vertical_tick_labels ? widest(x_.tick_labels, Theme::kTickScale)
                                               : text_height(Theme::kTickScale);
  int bottom = pad + (x_.label.empty() ? 0 : text_height(Theme::kLabelScale) + pad / 2) + x_ticks_height + tick_gap;
  // Room on the right for half of the last x tick label, which is centred on the edge.
  int right = pad + (x_.tick_labels.empty() || x_.vertical_tick_labels
                         ? 0
                         : measure_text(x_.tick_labels.back(), Theme::kTickScale).width / 2);
  plot_ = Rect{panel.x + left, panel.y + top, std::max(1, panel.w - left - right), std::max(1, panel.h - top - bottom)};
}

double Axes::to_px(double x) const { return plot_.x + (x - x_.lo) / (x_.hi - x_.lo) * plot_.w; }
double Axes::to_py(double y) const { return plot_.bottom() - (y - y_.lo) / (y_.hi - y_.lo) * plot_.h; }

void Axes::draw_background(Canvas& canvas) const {
  canvas.fill_rect(plot_.x, plot_.y, plot_.w, plot_.h, kWhite);
  // Grid lines sit on whole pixels so they stay one crisp pixel wide.
  if (x_.grid) {
    for (double v : x_.positions) canvas.fill_rect(static_cast<int>(std::floor(to_px(v))), plot_.y, 1, plot_.h, kLightGray);
  }
  if (y_.grid) {
    for (double v : y_.positions) canvas.fill_rect(plot_.x, static_cast<int>(std::floor(to_py(v))), plot_.w, 1, kLightGray);
  }
}

void Axes::draw_frame(Canvas& canvas) const {
  constexpr int tick = Theme::kTickLength, gap = 4;
  // The frame is drawn just outside the plot area, so data touching the
  // edge is not hidden.
  canvas.draw_rect(plot_.x - 1, plot_.y - 1, plot_.w + 2, plot_.h + 2, kDarkGray);
  TextStyle tick_style{Theme::kTickScale};
  for (size_t i = 0; i < x_.positions.size(); ++i) {
    int px = static_cast<int>(std::floor(to_px(x_.positions[i])));
    canvas.fill_rect(px, plot_.bottom() + 1, 1, tick, kDarkGray);
    TextStyle style = tick_style;
    if (x_.vertical_tick_labels) {
      style.vertical = true, style.halign = HAlign::Right, style.valign = VAlign::Middle;
    } else {
      style.halign = HAlign::Center;
    }
    canvas.draw_text(x_.tick_labels[i], px, plot_.bottom() + 1 + tick + gap, kDarkGray, style);
  }
  for (size_t i = 0; i < y_.positions.size(); ++i) {
    int py = static_cast<int>(std::floor(to_py(y_.positions[i])));
    canvas.fill_rect(plot_.x - 1 - tick, py, tick, 1, kDarkGray);
    TextStyle style = tick_style;
    style.halign = HAlign::Right, style.valign = VAlign::Middle;
    canvas.draw_text(y_.tick_labels[i], plot_.x - 1 - tick - gap, py, kDarkGray, style);
  }
  TextStyle label{Theme::kLabelScale, HAlign::Center, VAlign::Bottom};
  if (!x_.label.empty()) {
    // Bottom alignment is on the baseline: leave room for descenders.
    int baseline = panel_.bottom() - Theme::kPad - (font::kGlyphHeight - font::kCapHeight) * Theme::kLabelScale;
    canvas.draw_text(x_.label, plot_.x + plot_.w / 2, baseline, kBlack, label);
  }
  if (!y_.label.empty()) {
    TextStyle vertical = label;
    vertical.vertical = true, vertical.valign = VAlign::Top;
    canvas.draw_text(y_.label, panel_.x + Theme::kPad, plot_.y + plot_.h / 2, kBlack, vertical);
  }
  if (!title_.empty()) {
    canvas.draw_text(fit_text(title_, panel_.w - 2 * Theme::kPad, Theme::kTitleScale), plot_.x + plot_.w / 2,
                     panel_.y + Theme::kPad, kBlack, TextStyle{Theme::kTitleScale, HAlign::Center, VAlign::Top});
  }
}

void draw_legend(Canvas& canvas, const Rect& plot, const std::vector<LegendEntry>& entries,
                 const std::vector<std::pair<double, double>>& occupied) {
  if (entries.empty()) return;
  constexpr int scale = Theme::kLabelScale, sample = 28, gap = 8, inner = 8;
  int row = font::kLineHeight * scale;
  int text_width = 0;
  for (const LegendEntry& e : entries) text_width = std::max(text_width, measure_text(e.name, scale).width);
  int w = inner + sample + gap + text_width + inner;
  int h = inner + static_cast<int>(entries.size()) * row - (row - font::kCapHeight * scale) + inner;
  // Candidate corners, best first when they tie.
  const int margin = 10;
  std::vector<Rect> corners = {
      {plot.right() - margin - w, plot.y + margin, w, h},      {plot.x + margin, plot.y + margin, w, h},
      {plot.right() - margin - w, plot.bottom() - margin - h, w, h},
      {plot.x + margin, plot.bottom() - margin - h, w, h}};
  Rect best = corners[0];
  size_t fewest = SIZE_MAX;
  for (const Rect& r : corners) {
    size_t covered = 0;
    for (auto [px, py] : occupied) covered += r.contains(px, py);
    if (covered < fewest) fewest = covered, best = r;
  }
  canvas.fill_rect(best.x, best.y, best.w, best.h, kWhite);
  canvas.draw_rect(best.x, best.y, best.w, best.h, kLightGray);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    int top = best.y + inner + static_cast<int>(i) * row;
    double mid = top + font::kCapHeight * scale / 2.0;
    int sx = best.x + inner;
    if (e.box) {
      canvas.fill_rect(sx + sample / 2 - 7, static_cast<int>(mid) - 7, 14, 14, e.color);
    } else {
      canvas.draw_polyline({sx + 0.0, sx + double(sample)}, {mid, mid}, e.color, 2.0, e.dashed ? 6.0 : 0.0);
      if (e.marker) canvas.fill_circle(sx + sample / 2.0, mid, 3.5, e.color);
    }
    canvas.draw_text(e.name, sx + sample + gap, top, kBlack, TextStyle{scale});
  }
}

}  // namespace nib::viz
