// Bar charts: one bar per label, e.g. nib's speed relative to a baseline.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "viz/axes.h"
#include "viz/font.h"
#include "viz/plots.h"

namespace nib::viz {
namespace {

// Three significant figures are plenty above a bar: 1234, 12.3, 1.23, 0.12.
std::string value_text(double v) {
  char text[32];
  double a = std::fabs(v);
  std::snprintf(text, sizeof text, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  return text;
}

}  // namespace

Canvas render_bar_chart(const BarChart& chart) {
  NIB_CHECK(chart.labels.size() == chart.values.size(), "bar chart '", chart.title, "': ", chart.labels.size(),
            " labels but ", chart.values.size(), " values");
  // The value axis always includes 0 (bars grow from it) and the reference.
  double lo = 0.0, hi = 0.0;
  for (double v : chart.values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (chart.reference && std::isfinite(*chart.reference)) {
    lo = std::min(lo, *chart.reference), hi = std::max(hi, *chart.reference);
  }
  // Headroom above the tallest bar for its value.
  if (hi > 0) hi += 0.08 * (hi - lo);
  if (lo < 0) lo -= 0.08 * (hi - lo);

  Axis x = Axis::categories(chart.x_label, chart.labels);
  Canvas canvas(chart.width, chart.height);
  // Labels go vertical when they would not fit side by side; the plot width
  // is only known after layout, so estimate it from the canvas.
  int slot_estimate = chart.labels.empty() ? chart.width : chart.width / static_cast<int>(chart.labels.size()) - 30;
  for (const std::string& label : chart.labels) {
    if (measure_text(label, Theme::kTickScale).width > slot_estimate - 4) x.vertical_tick_labels = true;
  }
  for (std::string& label : x.tick_labels) label = fit_text(label, chart.height / 3, Theme::kTickScale);
  Axes axes(Rect{0, 0, chart.width, chart.height}, chart.title, std::move(x),
            Axis::numeric(chart.y_label, nice_ticks(lo, hi, 6)));
  axes.draw_background(canvas);

  const Rect& plot = axes.plot();
  canvas.set_clip(plot.x, plot.y, plot.w, plot.h);
  double zero = axes.to_py(0.0);
  for (size_t i = 0; i < chart.values.size(); ++i) {
    double v = chart.values[i];
    if (!std::isfinite(v)) continue;  // no bar for a missing measurement
    int left = static_cast<int>(std::lround(axes.to_px(i - 0.35))), right = static_cast<int>(std::lround(axes.to_px(i + 0.35)));
    int top = static_cast<int>(std::lround(std::min(zero, axes.to_py(v))));
    int bottom = static_cast<int>(std::lround(std::max(zero, axes.to_py(v))));
    canvas.fill_rect(left, top, std::max(1, right - left), std::max(1, bottom - top), palette(0));
    // The value sits just beyond the end of the bar.
    bool up = v >= 0;
    canvas.draw_text(value_text(v), (left + right) / 2, up ? top - 4 : bottom + 4, kDarkGray,
                     TextStyle{Theme::kTickScale, HAlign::Center, up ? VAlign::Bottom : VAlign::Top});
  }
  if (chart.reference && std::isfinite(*chart.reference)) {
    double y = std::floor(axes.to_py(*chart.reference)) + 0.5;
    canvas.draw_polyline({double(plot.x), double(plot.right())}, {y, y}, kRed, 1.5, 8.0);
  }
  canvas.reset_clip();
  axes.draw_frame(canvas);
  return canvas;
}

void plot_bar_chart(const BarChart& chart, const std::string& path) { render_bar_chart(chart).save_png(path); }

}  // namespace nib::viz
