#include "train/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "distributed/communicator.h"
#include "util/files.h"
#include "util/json.h"
#include "viz/plots.h"

namespace nib::train {

namespace {

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", 100.0 * fraction);
  return text;
}

}  // namespace

void write_history(const std::string& dir, const History& history) {
  viz::TrainingHistory curves;
  for (const auto& e : history.epochs) {
    curves.train_loss.push_back(e.train_loss);
    curves.val_loss.push_back(e.val_loss);
    curves.train_accuracy.push_back(e.train_accuracy);
    curves.val_accuracy.push_back(e.val_accuracy);
  }
  write_file_atomic(dir + "/metrics.csv", history_to_csv(history));
  viz::plot_training_history(curves, dir + "/history.png", "Training history");
}

void write_prediction_figures(const data::Dataset& set, const Predictions& predictions,
                              const std::vector<std::string>& class_names, const std::string& title,
                              const std::string& dir) {
  auto name_of = [&](int32_t c) {
    return c >= 0 && static_cast<size_t>(c) < class_names.size() ? class_names[c] : std::to_string(c);
  };
  if (!predictions.labels.empty()) {
    int64_t k = predictions.classes;
    viz::ConfusionMatrix matrix = viz::ConfusionMatrix::from_flat(predictions.confusion(), k);
    for (int64_t c = 0; c < k; ++c) matrix.class_names.push_back(name_of(static_cast<int32_t>(c)));
    matrix.title = title + " - accuracy " + percent(predictions.accuracy());
    viz::plot_confusion_matrix(matrix, dir + "/confusion.png");
  }

  // Up to 32 images per grid: what it got wrong (the instructive part) and
  // what it got right; unlabelled data gets one grid of predictions.
  Tensor images = set.images.cpu();
  auto grid_of = [&](const std::vector<int64_t>& which, const std::string& grid_title, const std::string& file) {
    viz::ImageGrid grid;
    grid.title = grid_title;
    grid.columns = 8;
    for (int64_t i : which) {
      viz::GridItem item;
      item.image = images.slice_rows(i, i + 1).reshape({images.size(1), images.size(2), images.size(3)});
      std::string predicted = name_of(predictions.predicted[i]) + " " + percent(predictions.confidence[i]);
      if (predictions.labels.empty()) {
        item.captions.push_back({"pred " + predicted, viz::kBlack});
      } else {
        bool right = predictions.predicted[i] == predictions.labels[i];
        item.frame = right ? viz::kGreen : viz::kRed;
        item.captions.push_back({"true " + name_of(predictions.labels[i]), viz::kBlack});
        item.captions.push_back({"pred " + predicted, right ? viz::kGreen : viz::kRed});
      }
      grid.items.push_back(item);
    }
    viz::plot_image_grid(grid, dir + "/" + file);
  };
  std::vector<int64_t> wrong, right;
  for (size_t i = 0; i < predictions.predicted.size(); ++i) {
    bool ok = predictions.labels.empty() || predictions.predicted[i] == predictions.labels[i];
    std::vector<int64_t>& bucket = ok ? right : wrong;
    if (bucket.size() < 32) bucket.push_back(static_cast<int64_t>(i));
  }
  if (predictions.labels.empty()) {
    grid_of(right, title + " - sample predictions", "samples.png");
    return;
  }
  grid_of(wrong, title + str(" - misclassified (", predictions.predicted.size() - static_cast<size_t>(std::llround(
                                                     predictions.accuracy() * predictions.predicted.size())),
                             " in all)"),
          "misclassified.png");
  grid_of(right, title + " - correctly classified samples", "correct.png");
}

void write_class_distribution(const data::Dataset& set, const std::string& title, const std::string& path) {
  viz::BarChart chart;
  chart.title = title;
  chart.x_label = "class";
  chart.y_label = "images";
  std::vector<int32_t> labels = set.label_vector();
  chart.labels = set.class_names;
  chart.values.assign(set.class_names.size(), 0.0);
  for (int32_t label : labels)
    if (label >= 0 && static_cast<size_t>(label) < chart.values.size()) chart.values[label] += 1.0;
  viz::plot_bar_chart(chart, path);
}

FinalReport evaluate_and_report(Module& model, const data::Dataset& set, const std::string& set_name,
                                const RunInfo& info, const History& history, const std::string& dir, Device device,
                                distributed::Communicator* comm) {
  Predictions predictions = predict(model, set.images, set.label_vector(), device, 256, comm);
  FinalReport report{predictions.accuracy(), predictions.mean_loss};
  if (comm && !comm->is_root()) return report;
  write_prediction_figures(set, predictions, info.class_names, info.model.name + " on " + set_name, dir);

  json::Value summary = json::Value::object();
  summary["model"] = info.model.name;
  summary["dataset"] = info.data;
  summary["data"] = info.data;
  summary["evaluated_on"] = set_name;
  summary["images"] = set.size();
  summary["accuracy"] = report.accuracy;
  // test_accuracy is null where the data has no separate test set.
  summary["test_accuracy"] = set_name == "test" ? json::Value(report.accuracy) : json::Value();
  summary["val_accuracy"] = history.epochs.empty() ? json::Value() : json::Value(history.epochs.back().val_accuracy);
  summary["device"] = device.name();
  summary["ranks"] = static_cast<int64_t>(comm ? comm->size() : 1);
  summary["seed"] = info.settings.count("seed") ? info.settings.at("seed") : std::string("1");
  summary["loss"] = report.loss;
  summary["epochs"] = static_cast<int64_t>(history.epochs.size());
  double seconds = 0;
  for (const auto& e : history.epochs) seconds += e.seconds;
  summary["train_seconds"] = seconds;
  if (!history.epochs.empty()) {
    summary["final_val_accuracy"] = history.epochs.back().val_accuracy;
    summary["images_per_second"] = history.epochs.back().images_per_second;
  }
  write_file_atomic(dir + "/summary.json", json::dump(summary, 2) + "\n");
  return report;
}

}  // namespace nib::train
