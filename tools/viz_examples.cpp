// nib_viz_examples: renders the example pictures in docs/images
// (example_history.png, example_confusion.png, example_grid.png) from a real
// (small) training run: softmax regression on MNIST, trained here with plain
// loops so that the example needs nothing but the viz code and the data.
// A generator, not a test: built by CMake (target nib_viz_examples), never
// run by ctest.
//
//   cmake --build build --target nib_viz_examples
//   ./build/nib_viz_examples docs/images [DATA_DIR]
//
// DATA_DIR holds mnist/*-idx?-ubyte.gz; without it, $NIB_DATA, else
// ../shared/data next to the source tree.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "util/error.h"
#include "viz/plots.h"

using namespace nib;
using namespace nib::viz;

namespace {

std::string data_dir;

// An IDX file (gzip): the bytes after its header of `header_bytes`.
std::vector<uint8_t> read_idx(const std::string& path, size_t header_bytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  NIB_CHECK(file != nullptr, "cannot open ", path);
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  for (int n; (n = gzread(file, buffer, sizeof buffer)) > 0;) bytes.insert(bytes.end(), buffer, buffer + n);
  gzclose(file);
  NIB_CHECK(bytes.size() > header_bytes, path, ": shorter than its ", header_bytes, "-byte header");
  return std::vector<uint8_t>(bytes.begin() + header_bytes, bytes.end());
}

struct Digits {
  std::vector<float> pixels;  // [n, 784] in [0, 1]
  std::vector<int> labels;
  size_t size() const { return labels.size(); }
};

Digits load(const std::string& prefix) {
  Digits d;
  for (uint8_t p : read_idx(data_dir + "/mnist/" + prefix + "-images-idx3-ubyte.gz", 16)) d.pixels.push_back(p / 255.0f);
  for (uint8_t l : read_idx(data_dir + "/mnist/" + prefix + "-labels-idx1-ubyte.gz", 8)) d.labels.push_back(l);
  return d;
}

// Softmax regression: probabilities = softmax(W x + b).
struct Model {
  std::vector<float> w = std::vector<float>(10 * 784, 0.0f), b = std::vector<float>(10, 0.0f);
  void probabilities(const float* x, float* p) const {
    float top = -INFINITY;
    for (int k = 0; k < 10; ++k) {
      p[k] = b[k];
      for (int i = 0; i < 784; ++i) p[k] += w[k * 784 + i] * x[i];
      top = std::max(top, p[k]);
    }
    float total = 0;
    for (int k = 0; k < 10; ++k) total += p[k] = std::exp(p[k] - top);
    for (int k = 0; k < 10; ++k) p[k] /= total;
  }
};

// Mean cross-entropy and accuracy of the model on a set.
std::pair<double, double> evaluate(const Model& model, const Digits& d) {
  double loss = 0, correct = 0;
  float p[10];
  for (size_t n = 0; n < d.size(); ++n) {
    model.probabilities(&d.pixels[n * 784], p);
    loss -= std::log(std::max(p[d.labels[n]], 1e-12f));
    correct += std::max_element(p, p + 10) - p == d.labels[n];
  }
  return {loss / d.size(), correct / d.size()};
}

void render(const std::string& out) {
  std::filesystem::create_directories(out);
  Digits train = load("train"), test = load("t10k");
  // Training on the first 50000, validating on the last 10000 of the training set.
  const size_t train_count = 50000, epochs = 10;
  Model model;
  TrainingHistory history;
  float p[10];
  for (size_t epoch = 0; epoch < epochs; ++epoch) {
    const float learning_rate = 0.05f;
    double loss = 0, correct = 0;
    for (size_t n = 0; n < train_count; ++n) {
      const float* x = &train.pixels[n * 784];
      model.probabilities(x, p);
      int label = train.labels[n];
      loss -= std::log(std::max(p[label], 1e-12f));
      correct += std::max_element(p, p + 10) - p == label;
      for (int k = 0; k < 10; ++k) {  // d loss / d logit_k = p_k - [k == label]
        float g = learning_rate * (p[k] - (k == label));
        for (int i = 0; i < 784; ++i) model.w[k * 784 + i] -= g * x[i];
        model.b[k] -= g;
      }
    }
    Digits validation;
    validation.pixels.assign(train.pixels.begin() + train_count * 784, train.pixels.end());
    validation.labels.assign(train.labels.begin() + train_count, train.labels.end());
    auto [val_loss, val_accuracy] = evaluate(model, validation);
    history.train_loss.push_back(loss / train_count);
    history.train_accuracy.push_back(correct / train_count);
    history.val_loss.push_back(val_loss);
    history.val_accuracy.push_back(val_accuracy);
  }
  plot_training_history(history, out + "/example_history.png", "softmax regression on MNIST (SGD, lr 0.05)");

  // Test set: confusion matrix and a grid of digits with their predictions.
  ConfusionMatrix confusion;
  confusion.counts.assign(10, std::vector<int64_t>(10, 0));
  confusion.title = "MNIST test set, softmax regression";
  ImageGrid grid;
  grid.title = "MNIST test digits: first 12, then the first 12 mistakes";
  grid.columns = 8;
  grid.cell_size = 56;
  int shown = 0, mistakes = 0;
  for (size_t n = 0; n < test.size(); ++n) {
    model.probabilities(&test.pixels[n * 784], p);
    int predicted = static_cast<int>(std::max_element(p, p + 10) - p), label = test.labels[n];
    confusion.counts[label][predicted] += 1;
    bool wrong = predicted != label;
    if (shown < 12 || (wrong && mistakes < 12)) {
      std::vector<float> pixels(&test.pixels[n * 784], &test.pixels[(n + 1) * 784]);
      char caption[64];
      std::snprintf(caption, sizeof caption, "pred %d (%.0f%%)", predicted, 100 * p[predicted]);
      grid.items.push_back(GridItem{Tensor::from_vector(pixels, {1, 28, 28}),
                                    {{"true " + std::to_string(label), kBlack}, {caption, wrong ? kRed : kDarkGray}},
                                    wrong ? kRed : kGreen});
      shown += 1, mistakes += wrong;
    }
  }
  plot_confusion_matrix(confusion, out + "/example_confusion.png");
  plot_image_grid(grid, out + "/example_grid.png");
  std::printf("validation accuracy after %zu epochs: %.4f; wrote %s/example_{history,confusion,grid}.png\n", epochs,
              history.val_accuracy.back(), out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR [DATA_DIR]   (e.g. nib_viz_examples docs/images)\n", argv[0]);
    return 2;
  }
  const char* env = std::getenv("NIB_DATA");
  data_dir = argc == 3 ? argv[2] : env ? env : NIB_SOURCE_DIR "/../shared/data";
  try {
    render(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nib_viz_examples: %s\n", e.what());
    return 1;
  }
  return 0;
}
