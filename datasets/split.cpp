#include "datasets/split.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "tensor/random.h"

namespace nib::data {

Split stratified_split(const Tensor& labels, double val_fraction, uint64_t seed) {
  check_defined(labels, "stratified_split", "labels");
  NIB_CHECK(labels.dtype() == DType::I32 && labels.dim() == 1, "stratified_split: labels must be [N] int32, got ",
            labels.shape(), " ", dtype_name(labels.dtype()));
  NIB_CHECK(val_fraction >= 0.0 && val_fraction < 1.0, "stratified_split: val_fraction must be in [0, 1), got ",
            val_fraction);

  std::map<int32_t, std::vector<int64_t>> by_class;  // ordered, so classes are visited the same way every run
  const int32_t* y = labels.data_as<int32_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) by_class[y[i]].push_back(i);

  Generator gen(seed);
  Split split;
  for (auto& [label, members] : by_class) {
    // Fisher-Yates with nib's generator: the same shuffle on every platform.
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[gen.below(static_cast<uint32_t>(i))]);
    size_t val_count = static_cast<size_t>(std::llround(members.size() * val_fraction));
    split.val.insert(split.val.end(), members.begin(), members.begin() + val_count);
    split.train.insert(split.train.end(), members.begin() + val_count, members.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.val.begin(), split.val.end());
  return split;
}

std::vector<int64_t> all_indices(int64_t n) {
  std::vector<int64_t> indices(static_cast<size_t>(n));
  std::iota(indices.begin(), indices.end(), int64_t{0});
  return indices;
}

Dataset subset(const Dataset& dataset, const std::vector<int64_t>& indices) {
  check_defined(dataset.images, "subset", "images");
  const int64_t n = dataset.size();
  Shape shape = dataset.images.shape();
  const size_t row = static_cast<size_t>(n == 0 ? 0 : dataset.images.numel() / n);
  shape[0] = static_cast<int64_t>(indices.size());

  Dataset out;
  out.images = Tensor::empty(shape);
  if (dataset.labelled()) out.labels = Tensor::empty({shape[0]}, kCPU, DType::I32);
  for (size_t k = 0; k < indices.size(); ++k) {
    int64_t i = indices[k];
    NIB_CHECK(0 <= i && i < n, "subset: index ", i, " is outside the dataset of ", n, " examples");
    std::memcpy(out.images.data() + k * row, dataset.images.data() + i * row, row * sizeof(float));
    if (dataset.labelled()) out.labels.data_as<int32_t>()[k] = dataset.labels.data_as<int32_t>()[i];
  }
  out.class_names = dataset.class_names;
  out.source = dataset.source;
  return out;
}

}  // namespace nib::data
