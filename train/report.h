// What a run leaves for people to look at: metrics.csv and history.png after
// every epoch; at the end, the confusion matrix, a grid of sample predictions
// (misclassified.png, correct.png) and summary.json.
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "layers/module.h"
#include "train/evaluate.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace nib::train {

// metrics.csv and history.png (both written atomically).
void write_history(const std::string& dir, const History& history);

struct FinalReport {
  double accuracy = 0.0;
  double loss = 0.0;
};

// Evaluates on `set` and writes confusion.png, samples.png and summary.json.
// With `comm`, the evaluation is split across the ranks and rank 0 alone
// writes; every rank gets the report.
FinalReport evaluate_and_report(Module& model, const data::Dataset& set, const std::string& set_name,
                                const RunInfo& info, const History& history, const std::string& dir, Device device,
                                distributed::Communicator* comm = nullptr);

// class_distribution.png: images per class of a (training) set, as bars.
void write_class_distribution(const data::Dataset& set, const std::string& title, const std::string& path);

// The confusion matrix and the grids of misclassified and correct images
// (samples.png alone for unlabelled data) (nib predict/eval on labelled data).
void write_prediction_figures(const data::Dataset& set, const Predictions& predictions,
                              const std::vector<std::string>& class_names, const std::string& title,
                              const std::string& dir);

}  // namespace nib::train
