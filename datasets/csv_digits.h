// Kaggle "Digit Recognizer" CSV files: a header row, then one image per line.
//   train.csv: label,pixel0,...,pixel783   (labelled)
//   test.csv:  pixel0,...,pixel783         (unlabelled)
// Pixels are 0..255, row-major 28x28 gray. A file is labelled when its first
// header column is "label". Any square number of pixel columns is accepted
// (28x28 is the Kaggle one).
#pragma once

#include <string>

#include "datasets/dataset.h"

namespace nib::data {

// A line longer than this is refused before it is read into memory: a
// 28x28 line is about 3 KB, and a 1024x1024 image of "255," fits 4 MiB.
constexpr size_t kMaxCsvLineBytes = size_t{4} << 20;

// Errors name the file and the 1-based line: a wrong column count, a field
// that is not a number, a pixel outside 0..255, a label outside 0..9 or a line
// over kMaxCsvLineBytes.
Dataset load_digits_csv(const std::string& path);

}  // namespace nib::data
