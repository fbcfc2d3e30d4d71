// `nib bench models`: images per second of every model nib ships (mlp,
// basic-cnn, mobilenet_v2, resnet18, vgg16) at its usual input size, for
// inference (eval mode, no autograd) and for a training step (forward,
// cross-entropy, backward, Adam), on random data.
//
// bench/pytorch_models.py times the same models and steps in PyTorch
// (torchvision's architectures, the same batch sizes and timing rule) and
// bench/models_vs_pytorch.sh alternates the two on the same cores and writes
// bench/results/models_cpu.{json,md} with the ratios.
//
//   nib bench models [--models mlp,basic-cnn,...] [--modes forward,train] [--budget S]
//                    [--threads N] [--kernels SPEC] [--json FILE]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nib::bench {

int models_bench(int argc, char** argv);  // argv as given to nib; options from argv[3]

// The cases both sides run: the model, its input [C, H, W] and batch size.
struct ModelCase {
  std::string model;
  int64_t channels, size, classes, batch;
};
const std::vector<ModelCase>& model_cases();

}  // namespace nib::bench
