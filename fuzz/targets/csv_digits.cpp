// Kaggle digit CSV files: datasets/csv_digits.h.
#include "datasets/csv_digits.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"

NIB_FUZZ_TARGET(csv_digits) {
  nib::fuzz::InputFile file("train.csv", data, size);
  nib::data::load_digits_csv(file.path());
}
