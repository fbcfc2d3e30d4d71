// Turns what the user gave --data into train / validation / test sets.
//
//   mnist, or a directory of IDX files  -> its train set split into train and
//                                          validation; the test set kept apart
//   a Kaggle digits .csv                -> split into train and validation; no test set
//   a directory of class folders        -> split into train and validation; no test set
//
// The split is stratified and seeded (same seed, same split). Where there is
// no separate test set, the final numbers are validation numbers, and the
// summary says so instead of pretending otherwise.
#pragma once

#include <cstdint>
#include <string>

#include "datasets/dataset.h"
#include "datasets/input_style.h"

namespace nib::train {

struct DataOptions {
  std::string spec = "mnist";  // --data
  int64_t image_size = 0;      // resize images to this (0: keep 28 for IDX/CSV, 64 for folders)
  int64_t channels = 0;        // 1 or 3 for image folders (0: 1)
  double val_split = 0.1;
  uint64_t seed = 1;
  int64_t limit = 0;           // use at most this many training images (quick runs); 0 = all
  bool skip_bad_images = false;  // image folders: warn about and leave out undecodable files
};

struct TrainingData {
  data::Dataset train, validation, test;  // test.size() == 0 when there is none
  std::string description;                // "MNIST (../shared/data/mnist): 54000 train, 6000 val, 10000 test"
  data::InputStyle input_style;           // how the training images look, measured before any resizing
  bool has_test() const { return test.size() > 0; }
};

TrainingData load_training_data(const DataOptions& options);

// Loads a labelled evaluation set (nib predict/eval --data): the test set of
// IDX data, or the whole of a CSV / folder, resized like the training data.
// The images of a folder are prepared with `prepare` (IDX and CSV data are
// the training data's kind already).
data::Dataset load_evaluation_data(const std::string& spec, int64_t image_size, int64_t channels,
                                   const data::InputStyle& prepare = data::InputStyle::none());

}  // namespace nib::train
