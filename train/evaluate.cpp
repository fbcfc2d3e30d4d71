#include "train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "distributed/communicator.h"
#include "distributed/shard.h"
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

namespace {

// predict() on rows [begin, end) of `images`; mean_loss holds the loss *sum* until predict() divides.
Predictions predict_rows(Module& model, const Tensor& images, const std::vector<int32_t>& labels, Device device,
                         int64_t batch_size, int64_t begin_row, int64_t end_row) {
  Predictions out;
  double loss_sum = 0.0;
  for (int64_t begin = begin_row; begin < end_row; begin += batch_size) {
    int64_t end = std::min(end_row, begin + batch_size);
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
  out.mean_loss = loss_sum;
  return out;
}

// Each rank's rows of predictions, as bytes: [classes][loss sum][predicted...][confidence...].
std::string pack(const Predictions& p) {
  std::string bytes(sizeof(int64_t) + sizeof(double), '\0');
  std::memcpy(bytes.data(), &p.classes, sizeof(int64_t));
  std::memcpy(bytes.data() + sizeof(int64_t), &p.mean_loss, sizeof(double));
  bytes.append(reinterpret_cast<const char*>(p.predicted.data()), p.predicted.size() * sizeof(int32_t));
  bytes.append(reinterpret_cast<const char*>(p.confidence.data()), p.confidence.size() * sizeof(float));
  return bytes;
}

void append_unpacked(const std::string& bytes, Predictions& all) {
  const size_t head = sizeof(int64_t) + sizeof(double);
  const size_t rows = (bytes.size() - head) / (sizeof(int32_t) + sizeof(float));
  int64_t classes = 0;
  double loss_sum = 0;
  std::memcpy(&classes, bytes.data(), sizeof(int64_t));
  std::memcpy(&loss_sum, bytes.data() + sizeof(int64_t), sizeof(double));
  all.classes = std::max(all.classes, classes);
  all.mean_loss += loss_sum;
  const size_t first = all.predicted.size();
  all.predicted.resize(first + rows);
  all.confidence.resize(first + rows);
  std::memcpy(all.predicted.data() + first, bytes.data() + head, rows * sizeof(int32_t));
  std::memcpy(all.confidence.data() + first, bytes.data() + head + rows * sizeof(int32_t), rows * sizeof(float));
}

}  // namespace

Predictions predict(Module& model, const Tensor& images, const std::vector<int32_t>& labels, Device device,
                    int64_t batch_size, distributed::Communicator* comm) {
  NIB_CHECK(labels.empty() || static_cast<int64_t>(labels.size()) == images.size(0), "predict: ", labels.size(),
            " labels for ", images.size(0), " images");
  distributed::Communicator& ranks = comm ? *comm : distributed::single_process();
  bool was_training = model.is_training();
  model.eval();
  NoGrad no_grad;
  const int64_t n = images.size(0);
  const distributed::RowRange mine = distributed::shard_rows(n, ranks.rank(), ranks.size());
  Predictions out = predict_rows(model, images, labels, device, batch_size, mine.begin, mine.end);
  if (ranks.size() > 1) {
    std::vector<std::string> parts = ranks.all_gather(pack(out));
    out = Predictions{};
    for (const std::string& part : parts) append_unpacked(part, out);
  }
  out.labels = labels;
  out.mean_loss = !labels.empty() && n > 0 ? out.mean_loss / static_cast<double>(n) : 0.0;
  model.train(was_training);
  return out;
}

}  // namespace nib::train
