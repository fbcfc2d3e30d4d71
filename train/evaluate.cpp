#include "train/evaluate.h"

#include <cmath>

#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::train {

double Predictions::accuracy() const {
  if (labels.empty()) return 0.0;
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

std::vector<int64_t> Predictions::confusion() const {
  std::vector<int64_t> counts(static_cast<size_t>(classes * classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) ++counts[labels[i] * classes + predicted[i]];
  return counts;
}

Predictions predict(Module& model, const Tensor& images, const std::vector<int32_t>& labels, Device device,
                    int64_t batch_size) {
  NIB_CHECK(labels.empty() || static_cast<int64_t>(labels.size()) == images.size(0), "predict: ", labels.size(),
            " labels for ", images.size(0), " images");
  bool was_training = model.is_training();
  model.eval();
  NoGrad no_grad;
  Predictions out;
  out.labels = labels;
  double loss_sum = 0.0;
  int64_t n = images.size(0);
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    int64_t end = std::min(n, begin + batch_size);
    Tensor logits = model(images.slice_rows(begin, end).to(device));
    NIB_CHECK(logits.dim() == 2, "predict: the model returned ", logits.shape(), ", expected [batch, classes]");
    std::vector<float> probs = ops::softmax(logits).to_vector();
    int64_t classes = logits.size(1);
    out.classes = classes;
    for (int64_t i = 0; i < end - begin; ++i) {
      const float* row = probs.data() + i * classes;
      int32_t best = 0;
      for (int32_t c = 1; c < classes; ++c)
        if (row[c] > row[best]) best = c;
      out.predicted.push_back(best);
      out.confidence.push_back(row[best]);
      if (!labels.empty()) {
        int32_t label = labels[begin + i];
        NIB_CHECK(label >= 0 && label < classes, "predict: label ", label, " of image ", begin + i,
                  " is outside the model's ", classes, " classes");
        loss_sum -= std::log(std::max(row[label], 1e-12f));
      }
    }
  }
  if (!labels.empty() && n > 0) out.mean_loss = loss_sum / static_cast<double>(n);
  model.train(was_training);
  return out;
}

}  // namespace nib::train
