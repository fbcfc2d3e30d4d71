// Running a trained classifier over a set of images: predictions,
// probabilities, accuracy, mean loss and the confusion matrix.
#pragma once

#include <cstdint>
#include <vector>

#include "layers/module.h"

namespace nib::distributed {
class Communicator;
}

namespace nib::train {

struct Predictions {
  std::vector<int32_t> predicted;    // argmax class per image
  std::vector<float> confidence;     // softmax probability of the predicted class
  std::vector<int32_t> labels;       // the true labels (empty when unknown)
  int64_t classes = 0;
  double mean_loss = 0.0;            // cross-entropy, when labels are known
  double accuracy() const;
  // counts[true * classes + predicted]
  std::vector<int64_t> confusion() const;
};

// Evaluates `model` (switched to eval mode; its mode is restored afterwards)
// on images [N, C, H, W] in batches on `device`. `labels` may be empty.
// With `comm` (several ranks holding the same model), each rank evaluates
// its block of the images (distributed/shard.h) and every rank gets all the
// predictions, in order.
Predictions predict(Module& model, const Tensor& images, const std::vector<int32_t>& labels, Device device,
                    int64_t batch_size = 256, distributed::Communicator* comm = nullptr);

}  // namespace nib::train
