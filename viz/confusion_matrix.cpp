// Confusion matrices: a heat map of counts[true][predicted].
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "viz/axes.h"
#include "viz/font.h"
#include "viz/plots.h"

namespace nib::viz {

ConfusionMatrix ConfusionMatrix::from_flat(const std::vector<int64_t>& flat, int64_t classes) {
  NIB_CHECK(classes > 0 && static_cast<int64_t>(flat.size()) == classes * classes, "ConfusionMatrix::from_flat: ",
            flat.size(), " counts do not make a ", classes, "x", classes, " matrix");
  ConfusionMatrix matrix;
  for (int64_t t = 0; t < classes; ++t) matrix.counts.emplace_back(flat.begin() + t * classes, flat.begin() + (t + 1) * classes);
  return matrix;
}

namespace {

constexpr int kMaxClassesWithText = 30;

// The number written in a cell: a count, or a row fraction with two decimals.
std::string cell_text(double value, bool normalized) {
  char text[32];
  if (normalized && value == 0.0) {
    return "0";  // a plain 0 keeps the many empty cells of a good model quiet
  } else if (normalized) {
    std::snprintf(text, sizeof text, "%.2f", value);
  } else {
    std::snprintf(text, sizeof text, "%.0f", value);
  }
  return text;
}

}  // namespace

Canvas render_confusion_matrix(const ConfusionMatrix& matrix) {
  const int n = static_cast<int>(matrix.counts.size());
  NIB_CHECK(n > 0, "confusion matrix '", matrix.title, "': no classes");
  for (int t = 0; t < n; ++t) {
    NIB_CHECK(static_cast<int>(matrix.counts[t].size()) == n, "confusion matrix '", matrix.title, "': row ", t,
              " has ", matrix.counts[t].size(), " counts, expected ", n, " (the matrix must be square)");
    for (int64_t c : matrix.counts[t]) NIB_CHECK(c >= 0, "confusion matrix '", matrix.title, "': negative count ", c);
  }
  NIB_CHECK(matrix.class_names.empty() || static_cast<int>(matrix.class_names.size()) == n, "confusion matrix '",
            matrix.title, "': ", matrix.class_names.size(), " class names for ", n, " classes");

  // What each cell shows, and its colour on the scale 0..scale_max.
  std::vector<std::vector<double>> values(n, std::vector<double>(n, 0.0));
  double scale_max = 0.0;
  for (int t = 0; t < n; ++t) {
    double row_total = 0.0;
    for (int64_t c : matrix.counts[t]) row_total += static_cast<double>(c);
    for (int p = 0; p < n; ++p) {
      double count = static_cast<double>(matrix.counts[t][p]);
      values[t][p] = matrix.normalize ? (row_total > 0 ? count / row_total : 0.0) : count;
      scale_max = std::max(scale_max, values[t][p]);
    }
  }
  if (matrix.normalize) scale_max = 1.0;

  // Cell size: room for a number in each cell up to 30 classes; beyond that
  // (ImageNet's 1000) just a coloured pixel block per cell.
  const bool show_text = n <= kMaxClassesWithText;
  const int cell = show_text ? std::clamp(640 / n, 26, 60) : std::max(1, 900 / n);
  const int side = n * cell;

  // Class names as large as tick labels elsewhere, unless the cells are tiny.
  const int name_scale = show_text ? Theme::kTickScale : 1;
  std::vector<std::string> names(n);
  for (int i = 0; i < n; ++i) {
    names[i] = fit_text(matrix.class_names.empty() ? std::to_string(i) : matrix.class_names[i], 80 * name_scale, name_scale);
  }
  // Names need a line each: with small cells only every k-th is written.
  const int every = std::max(1, (font::kLineHeight * name_scale + cell - 1) / cell);
  int name_width = 0;
  for (int i = 0; i < n; i += every) name_width = std::max(name_width, measure_text(names[i], name_scale).width);
  const bool vertical_names = name_width > cell * every - 4;

  // Layout, outside in: title, axis labels, class names, matrix, colour bar.
  constexpr int pad = Theme::kPad, label_h = font::kGlyphHeight * Theme::kLabelScale, bar_w = 16;
  const int title_h = matrix.title.empty() ? 0 : font::kGlyphHeight * Theme::kTitleScale + pad;
  const int names_h = vertical_names ? name_width : font::kGlyphHeight * name_scale;
  // Colours run from 0 to the largest value, so the fullest cell is the
  // darkest; the colour bar marks the nice ticks inside that range.
  const double colour_max = scale_max > 0 ? scale_max : 1.0;
  Ticks bar_ticks = nice_ticks(0.0, colour_max, 6, !matrix.normalize);
  std::erase_if(bar_ticks.values, [&](double v) { return v > colour_max * (1 + 1e-9); });
  int bar_label_w = 0;
  for (double v : bar_ticks.values) {
    bar_label_w = std::max(bar_label_w, measure_text(format_tick(v, bar_ticks.step), name_scale).width);
  }

  const int mx = pad + label_h + pad + name_width + 8;
  const int my = pad + title_h;
  const int bar_x = mx + side + 2 * pad;
  int width = bar_x + bar_w + 12 + bar_label_w + pad;
  width = std::max(width, measure_text(matrix.title, Theme::kTitleScale).width + 2 * pad);
  const int height = my + side + 8 + names_h + pad + label_h + pad;
  Canvas canvas(width, height);

  // Cells, with their value in a colour that stays readable on them.
  int text_scale = 0;  // the largest scale at which every number fits its cell; 0: none fits
  if (show_text) {
    int widest = 0;
    for (const auto& row : values) {
      for (double v : row) widest = std::max(widest, measure_text(cell_text(v, matrix.normalize)).width);
    }
    for (int s = 2; s >= 1 && text_scale == 0; --s) {
      if (widest * s <= cell - 4 && font::kCapHeight * s <= cell - 4) text_scale = s;
    }
  }
  for (int t = 0; t < n; ++t) {
    for (int p = 0; p < n; ++p) {
      Color fill = blues(values[t][p] / colour_max);
      canvas.fill_rect(mx + p * cell, my + t * cell, cell, cell, fill);
      if (text_scale > 0) {
        canvas.draw_text(cell_text(values[t][p], matrix.normalize), mx + p * cell + cell / 2, my + t * cell + cell / 2,
                         text_color_on(fill), TextStyle{text_scale, HAlign::Center, VAlign::Middle});
      }
    }
  }
  canvas.draw_rect(mx - 1, my - 1, side + 2, side + 2, kDarkGray);

  // Class names: true classes down the left, predicted classes along the bottom.
  for (int i = 0; i < n; i += every) {
    int centre = i * cell + cell / 2;
    canvas.draw_text(names[i], mx - 8, my + centre, kDarkGray, TextStyle{name_scale, HAlign::Right, VAlign::Middle});
    TextStyle below{name_scale, HAlign::Center, VAlign::Top};
    if (vertical_names) below = TextStyle{name_scale, HAlign::Right, VAlign::Middle, true};
    canvas.draw_text(names[i], mx + centre, my + side + 8, kDarkGray, below);
  }
  canvas.draw_text("predicted", mx + side / 2, height - pad - label_h, kBlack,
                   TextStyle{Theme::kLabelScale, HAlign::Center, VAlign::Top});
  canvas.draw_text("true", pad, my + side / 2, kBlack, TextStyle{Theme::kLabelScale, HAlign::Center, VAlign::Top, true});
  if (!matrix.title.empty()) {
    canvas.draw_text(matrix.title, width / 2, pad, kBlack, TextStyle{Theme::kTitleScale, HAlign::Center});
  }

  // Colour bar: the scale from 0 (bottom) to the largest value, with tick labels.
  for (int y = 0; y < side; ++y) {
    canvas.fill_rect(bar_x, my + y, bar_w, 1, blues(1.0 - (y + 0.5) / side));
  }
  canvas.draw_rect(bar_x - 1, my - 1, bar_w + 2, side + 2, kDarkGray);
  for (double v : bar_ticks.values) {
    int y = my + static_cast<int>(std::lround((1.0 - v / colour_max) * (side - 1)));
    canvas.fill_rect(bar_x + bar_w + 1, y, 4, 1, kDarkGray);
    canvas.draw_text(format_tick(v, bar_ticks.step), bar_x + bar_w + 12, y, kDarkGray,
                     TextStyle{name_scale, HAlign::Left, VAlign::Middle});
  }
  return canvas;
}

void plot_confusion_matrix(const ConfusionMatrix& matrix, const std::string& path) {
  render_confusion_matrix(matrix).save_png(path);
}

}  // namespace nib::viz
