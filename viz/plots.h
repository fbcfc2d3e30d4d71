// nib's charts, written as PNG files: training curves, confusion matrices,
// grids of sample images and bar charts.
//
// Each chart has a render_X function that returns the picture as a Canvas
// (what the tests look at) and a plot_X function that also saves it. Charts
// are forgiving about their data, since they often show a run that went
// wrong: NaN and infinite values are skipped, empty series are left out,
// single values get a small range around them. They throw nib::Error only
// for inconsistent input (a matrix that is not square, 2 names for 3 classes)
// and for files that cannot be written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "viz/canvas.h"

namespace nib::viz {

// ---- Line chart --------------------------------------------------------------

struct Series {
  std::string name;          // shown in the legend (unnamed series are not listed)
  std::vector<double> xs;    // empty: 1, 2, ..., ys.size() (epochs)
  std::vector<double> ys;
  std::optional<Color> color;  // default: the next tab10 colour
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::optional<double> y_min, y_max;  // default: fitted to the data
  int width = 800, height = 500;
};

Canvas render_line_chart(const LineChart& chart);
void plot_line_chart(const LineChart& chart, const std::string& path);

// ---- Training history: loss and accuracy per epoch, side by side --------------

struct TrainingHistory {
  std::vector<double> train_loss, val_loss, train_accuracy, val_accuracy;  // one value per epoch
};

// Two panels (loss; accuracy) of training and validation curves, like the
// ones in the Keras notebooks; one panel when there is no accuracy.
Canvas render_training_history(const TrainingHistory& history, const std::string& title = "");
void plot_training_history(const TrainingHistory& history, const std::string& path, const std::string& title = "");

// ---- Confusion matrix --------------------------------------------------------

struct ConfusionMatrix {
  std::vector<std::vector<int64_t>> counts;  // counts[true class][predicted class]
  std::vector<std::string> class_names;      // empty: "0", "1", ...
  std::string title;
  bool normalize = false;  // show each row as fractions of its true class

  // From the flat layout of train::Predictions::confusion(): counts[true * classes + predicted].
  static ConfusionMatrix from_flat(const std::vector<int64_t>& flat, int64_t classes);
};

// Cells coloured by value ("Blues") with the value written in them, true
// classes down the side, predicted classes along the bottom. Large matrices
// (more than 30 classes) drop the cell text and thin out the class names.
Canvas render_confusion_matrix(const ConfusionMatrix& matrix);
void plot_confusion_matrix(const ConfusionMatrix& matrix, const std::string& path);

// ---- Image grid --------------------------------------------------------------

struct Caption {
  std::string text;
  Color color = kBlack;
};

struct GridItem {
  Tensor image;  // [C, H, W] or [H, W], F32 in [0, 1], C = 1 (gray) or 3 (RGB)
  std::vector<Caption> captions;  // lines under the image
  std::optional<Color> frame;     // e.g. kGreen for correct, kRed for wrong
};

// Images in rows of `columns`, each scaled to cell_size pixels (the longer
// side), with captions under them. Used for samples with their predictions
// ("true 3 / pred 5 (97%)") and for retrieval (a query and its neighbours).
struct ImageGrid {
  std::string title;
  int columns = 8;
  int cell_size = 96;
  std::vector<GridItem> items;
};

Canvas render_image_grid(const ImageGrid& grid);
void plot_image_grid(const ImageGrid& grid, const std::string& path);

// ---- Bar chart ---------------------------------------------------------------

struct BarChart {
  std::vector<std::string> labels;
  std::vector<double> values;
  std::string title, x_label, y_label;
  std::optional<double> reference;  // a dashed line across, e.g. 1.0 for "as fast as the baseline"
  int width = 800, height = 500;
};

// Vertical bars with their values written above them.
Canvas render_bar_chart(const BarChart& chart);
void plot_bar_chart(const BarChart& chart, const std::string& path);

}  // namespace nib::viz
