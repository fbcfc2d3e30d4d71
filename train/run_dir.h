// A run directory holds everything one training run produced, so that later
// commands need nothing else:
//
//   runs/basic-cnn-mnist/
//     config.json              model spec, class names, data, command line: rebuilds the model
//                              (a model converted from Keras keeps its layer graph here too)
//     model.safetensors     final weights (torchvision-style names)
//     checkpoint.safetensors  model + optimizer + history, for --resume
//     metrics.csv           one line per epoch
//     history.png           loss and accuracy curves
//     confusion.png         confusion matrix on the test (or validation) set
//     samples.png           sample predictions, mistakes framed in red
//     summary.json          the final numbers
#pragma once

#include <map>
#include <string>
#include <vector>

#include "datasets/input_style.h"
#include "models/registry.h"

namespace nib::train {

struct RunInfo {
  models::ModelSpec model;
  std::vector<std::string> class_names;
  std::string data;     // what it was trained on, as given to --data
  std::string command;  // the command line, for the record
  // The training settings (option name -> value as text), so --resume
  // continues with the same ones.
  std::map<std::string, std::string> settings;
  // How images in [0, 1] are transformed before the model (models/preprocess.h).
  std::string preprocess = "none";
  // How the training images look, so image files can be prepared to match
  // (datasets/input_style.h). Runs written before it was recorded get
  // legacy_input_style().
  data::InputStyle input;
  // nib finetune: the pretrained weights the base started from, for the record
  // (model.safetensors holds the whole fine-tuned model; "" otherwise).
  std::string pretrained;
};

void save_run_info(const std::string& dir, const RunInfo& info);
// Throws naming the file when config.json is missing or malformed.
RunInfo load_run_info(const std::string& dir);

// The input style of a run whose config.json does not record one: MNIST's
// (28x28 frame, 20x20 box) for a one-channel model trained on digits ("mnist",
// a folder of IDX files, a .csv), else a plain resize, as nib always did.
data::InputStyle legacy_input_style(const RunInfo& info);

// The first of base, base-2, base-3, ... that does not exist yet.
std::string fresh_run_dir(const std::string& base);

}  // namespace nib::train
