// Line charts and the two-panel training history built from them.
#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "viz/axes.h"
#include "viz/plots.h"

namespace nib::viz {
namespace {

// A series with its x values filled in and its colour decided.
struct Prepared {
  const Series* series;
  std::vector<double> xs;
  Color color;
};

bool all_integers(const std::vector<Prepared>& prepared) {
  for (const Prepared& p : prepared) {
    for (size_t i = 0; i < p.xs.size(); ++i) {
      if (std::isfinite(p.xs[i]) && std::isfinite(p.series->ys[i]) && p.xs[i] != std::round(p.xs[i])) return false;
    }
  }
  return true;
}

// Points along the drawn lines, every few pixels, for placing the legend
// where it hides the least.
void sample_line(const std::vector<double>& px, const std::vector<double>& py,
                 std::vector<std::pair<double, double>>& out) {
  for (size_t i = 0; i < px.size(); ++i) {
    if (!std::isfinite(px[i]) || !std::isfinite(py[i])) continue;
    out.emplace_back(px[i], py[i]);
    if (i + 1 < px.size() && std::isfinite(px[i + 1]) && std::isfinite(py[i + 1])) {
      int steps = static_cast<int>(std::hypot(px[i + 1] - px[i], py[i + 1] - py[i]) / 4);
      for (int s = 1; s < steps; ++s) {
        double t = static_cast<double>(s) / steps;
        out.emplace_back(px[i] + t * (px[i + 1] - px[i]), py[i] + t * (py[i + 1] - py[i]));
      }
    }
  }
}

void draw_line_chart(Canvas& canvas, const Rect& panel, const LineChart& chart) {
  std::vector<Prepared> prepared;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (size_t s = 0; s < chart.series.size(); ++s) {
    const Series& series = chart.series[s];
    NIB_CHECK(series.xs.empty() || series.xs.size() == series.ys.size(), "line chart '", chart.title, "': series '",
              series.name, "' has ", series.xs.size(), " x values but ", series.ys.size(), " y values");
    Prepared p{&series, series.xs, series.color.value_or(palette(s))};
    if (p.xs.empty()) {
      for (size_t i = 0; i < series.ys.size(); ++i) p.xs.push_back(static_cast<double>(i + 1));
    }
    for (size_t i = 0; i < p.xs.size(); ++i) {
      if (!std::isfinite(p.xs[i]) || !std::isfinite(series.ys[i])) continue;
      x_lo = std::min(x_lo, p.xs[i]), x_hi = std::max(x_hi, p.xs[i]);
      y_lo = std::min(y_lo, series.ys[i]), y_hi = std::max(y_hi, series.ys[i]);
    }
    prepared.push_back(std::move(p));
  }
  if (x_lo > x_hi) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // nothing to show: an empty frame
  if (chart.y_min) y_lo = *chart.y_min;
  if (chart.y_max) y_hi = *chart.y_max;

  Axes axes(panel, chart.title, Axis::numeric(chart.x_label, nice_ticks(x_lo, x_hi, 7, all_integers(prepared))),
            Axis::numeric(chart.y_label, nice_ticks(y_lo, y_hi, 6)));
  axes.draw_background(canvas);

  const Rect& plot = axes.plot();
  canvas.set_clip(plot.x, plot.y, plot.w, plot.h);
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> occupied;
  for (const Prepared& p : prepared) {
    const std::vector<double>& ys = p.series->ys;
    std::vector<double> px(ys.size()), py(ys.size());
    size_t finite_points = 0;
    for (size_t i = 0; i < ys.size(); ++i) {
      bool ok = std::isfinite(p.xs[i]) && std::isfinite(ys[i]);
      px[i] = ok ? axes.to_px(p.xs[i]) : NAN;  // a NaN point breaks the line
      py[i] = ok ? axes.to_py(ys[i]) : NAN;
      finite_points += ok;
    }
    canvas.draw_polyline(px, py, p.color, 2.0, p.series->dashed ? 8.0 : 0.0);
    // Markers on short series show where the measurements are; a point with
    // no finite neighbour gets one always, or it would not be seen at all.
    bool markers = finite_points <= 40;
    for (size_t i = 0; i < ys.size(); ++i) {
      if (!std::isfinite(px[i])) continue;
      bool isolated = (i == 0 || !std::isfinite(px[i - 1])) && (i + 1 == ys.size() || !std::isfinite(px[i + 1]));
      if (markers || isolated) canvas.fill_circle(px[i], py[i], 3.5, p.color);
    }
    sample_line(px, py, occupied);
    if (!p.series->name.empty() && finite_points > 0) {
      legend.push_back({p.series->name, p.color, p.series->dashed, markers});
    }
  }
  canvas.reset_clip();
  axes.draw_frame(canvas);
  draw_legend(canvas, plot, legend, occupied);
}

}  // namespace

Canvas render_line_chart(const LineChart& chart) {
  Canvas canvas(chart.width, chart.height);
  draw_line_chart(canvas, Rect{0, 0, chart.width, chart.height}, chart);
  return canvas;
}

void plot_line_chart(const LineChart& chart, const std::string& path) { render_line_chart(chart).save_png(path); }

Canvas render_training_history(const TrainingHistory& history, const std::string& title) {
  constexpr int panel_width = 600, panel_height = 440;
  auto panel_chart = [](std::string what, const std::vector<double>& train, const std::vector<double>& val) {
    LineChart chart;
    chart.title = "training and validation " + what;
    chart.x_label = "epoch";
    chart.y_label = std::move(what);
    chart.series = {Series{"training", {}, train, palette(0), false},
                    Series{"validation", {}, val, palette(1), true}};
    return chart;
  };
  bool has_accuracy = !history.train_accuracy.empty() || !history.val_accuracy.empty();
  int panels = has_accuracy ? 2 : 1;
  int title_height = title.empty() ? 0 : Theme::kPad + 9 * Theme::kTitleScale;
  Canvas canvas(panels * panel_width, title_height + panel_height);
  if (!title.empty()) {
    canvas.draw_text(fit_text(title, canvas.width() - 2 * Theme::kPad, Theme::kTitleScale), canvas.width() / 2,
                     Theme::kPad, kBlack, TextStyle{Theme::kTitleScale, HAlign::Center});
  }
  draw_line_chart(canvas, Rect{0, title_height, panel_width, panel_height},
                  panel_chart("loss", history.train_loss, history.val_loss));
  if (has_accuracy) {
    draw_line_chart(canvas, Rect{panel_width, title_height, panel_width, panel_height},
                    panel_chart("accuracy", history.train_accuracy, history.val_accuracy));
  }
  return canvas;
}

void plot_training_history(const TrainingHistory& history, const std::string& path, const std::string& title) {
  render_training_history(history, title).save_png(path);
}

}  // namespace nib::viz
