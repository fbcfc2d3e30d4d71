// A labelled set of images held in memory, the common currency of nib::data:
// every loader (MNIST IDX files, Kaggle CSV, a folder of images) produces one,
// and DataLoader, subset() and the training loop consume it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nib::data {

struct Dataset {
  Tensor images;                         // [N, C, H, W] float32 in [0, 1], on the CPU
  Tensor labels;                         // [N] DType::I32; undefined when the set is unlabelled
  std::vector<std::string> class_names;  // label k is class_names[k]
  std::string source;                    // where it came from, for messages ("mnist/train-images-idx3-ubyte.gz")

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  bool labelled() const { return labels.defined(); }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
  // The labels as a vector (empty when unlabelled).
  std::vector<int32_t> label_vector() const {
    if (!labels.defined()) return {};
    const int32_t* p = labels.data_as<int32_t>();
    return std::vector<int32_t>(p, p + labels.numel());
  }
};

// "0", "1", ... "n-1": the class names of digit sets.
inline std::vector<std::string> numbered_classes(int64_t n) {
  std::vector<std::string> names;
  for (int64_t k = 0; k < n; ++k) names.push_back(std::to_string(k));
  return names;
}

}  // namespace nib::data
