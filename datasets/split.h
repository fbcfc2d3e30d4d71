// Holding out a validation set. A stratified split keeps each class's share
// the same in both parts, so a small validation set is not accidentally
// missing a digit.
#pragma once

#include <cstdint>
#include <vector>

#include "datasets/dataset.h"

namespace nib::data {

struct Split {
  std::vector<int64_t> train, val;  // indices into the dataset, ascending
};

// From each class, round(count * val_fraction) randomly chosen examples go to
// val, the rest to train. The same (labels, fraction, seed) always gives the
// same split. labels: [N] int32. val_fraction in [0, 1).
Split stratified_split(const Tensor& labels, double val_fraction, uint64_t seed);

// 0, 1, ..., n-1: every example, for a loader over the whole set.
std::vector<int64_t> all_indices(int64_t n);

// A new dataset holding copies of the chosen examples, in the given order.
Dataset subset(const Dataset& dataset, const std::vector<int64_t>& indices);

}  // namespace nib::data
