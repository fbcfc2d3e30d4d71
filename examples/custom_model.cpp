// A model of your own, trained with nib's C++ API: a small CNN written as a
// Module, MNIST from the loader, Adam, and the test accuracy.
//
//   build/examples/custom_model [MNIST_DIR_OR_NAME] [EPOCHS]     (default: mnist, 1)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nib/nib.h"

using namespace nib;

// Two convolution blocks and a linear classifier, written as a Module:
// children registered by name (their parameters are then "conv1.weight", ...),
// forward() says how data flows.
class TinyNet : public Module {
 public:
  TinyNet() {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(1, 16, 3, 1, 1));
    conv2 = register_module("conv2", std::make_shared<Conv2d>(16, 32, 3, 1, 1));
    pool = register_module("pool", std::make_shared<MaxPool2d>(2));
    head = register_module("head", std::make_shared<Linear>(32 * 7 * 7, 10));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = (*pool)(ops::relu((*conv1)(x)));  // [N, 16, 14, 14]
    h = (*pool)(ops::relu((*conv2)(h)));         // [N, 32, 7, 7]
    return (*head)(h.reshape({h.size(0), -1}));  // [N, 10]
  }
  std::string describe() const override { return "TinyNet"; }

 private:
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<MaxPool2d> pool;
  std::shared_ptr<Linear> head;
};

int main(int argc, char** argv) try {
  const std::string where = argc > 1 ? argv[1] : "mnist";
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 1;
  data::LoadedData mnist = data::load_data(data::detect_data(where));
  manual_seed(1);
  TinyNet model;
  auto optimizer = optim::make_optimizer("adam", model.parameters(), 1e-3f, 0.9f, 0.0f);
  data::DataLoader loader(mnist.train, data::all_indices(mnist.train.size()), {.batch_size = 128});

  for (int epoch = 0; epoch < epochs; ++epoch) {
    model.train();
    data::Epoch batches = loader.epoch(epoch);
    while (std::optional<data::Batch> batch = batches.next()) {
      Tensor loss = ops::cross_entropy(model(batch->images), batch->labels);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
    }
    train::Predictions p = train::predict(model, mnist.test.images, mnist.test.label_vector(), kCPU);
    std::printf("epoch %d: test accuracy %.2f%%\n", epoch + 1, 100.0 * p.accuracy());
  }
  return 0;
} catch (const Error& e) {
  std::fprintf(stderr, "custom_model: %s\n", e.what());
  return 1;
}
