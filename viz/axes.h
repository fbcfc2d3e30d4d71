// The frame shared by nib's charts: a panel split into a title, axis labels,
// tick labels and the plot area, with the mapping from data to pixels; and
// the legend. The chart files (line_chart.cpp, bar_chart.cpp) only draw their
// data inside it.
#pragma once

#include <string>
#include <vector>

#include "viz/canvas.h"
#include "viz/ticks.h"

namespace nib::viz {

// Text sizes (font scale) and spacing used by every chart, so they match.
struct Theme {
  static constexpr int kTitleScale = 2;
  static constexpr int kLabelScale = 2;   // axis labels, legend
  static constexpr int kTickScale = 2;    // tick labels, class names
  static constexpr int kPad = 12;         // around the panel and between its parts
  static constexpr int kTickLength = 5;
};

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  bool contains(double px, double py) const { return px >= x && px < right() && py >= y && py < bottom(); }
};

// One axis: its data range, the ticks to mark and their labels.
struct Axis {
  std::string label;
  double lo = 0, hi = 1;
  std::vector<double> positions;
  std::vector<std::string> tick_labels;  // one per position
  bool grid = true;                      // light lines across the plot at the ticks
  bool vertical_tick_labels = false;     // for long category names under bars

  // A numeric axis over "nice" ticks.
  static Axis numeric(std::string label, const Ticks& ticks);
  // Categories 0..n-1, each centred in a slot of width 1.
  static Axis categories(std::string label, const std::vector<std::string>& names);
};

class Axes {
 public:
  // Lays the panel out: title on top, y-axis label and tick labels on the
  // left, x tick labels and label below, the rest is the plot area.
  Axes(Rect panel, std::string title, Axis x, Axis y);

  const Rect& plot() const { return plot_; }
  const Axis& x() const { return x_; }
  const Axis& y() const { return y_; }
  // Data to pixel coordinates (real-valued, for anti-aliased drawing).
  double to_px(double x) const;
  double to_py(double y) const;

  // Plot background and grid lines: draw first, then the data.
  void draw_background(Canvas& canvas) const;
  // Frame, ticks, tick labels, axis labels and title: draw after the data.
  void draw_frame(Canvas& canvas) const;

 private:
  Rect panel_, plot_;
  std::string title_;
  Axis x_, y_;
};

struct LegendEntry {
  std::string name;
  Color color;
  bool dashed = false;
  bool marker = false;
  bool box = false;  // a filled square instead of a line sample (bars)
};

// Draws a legend in the corner of the plot that covers the fewest of
// `occupied` (pixel positions of the data), preferring the top right.
void draw_legend(Canvas& canvas, const Rect& plot, const std::vector<LegendEntry>& entries,
                 const std::vector<std::pair<double, double>>& occupied);

}  // namespace nib::viz
