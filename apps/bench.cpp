// nib bench: the benchmarks, one subcommand each (the code lives in bench/).
//
//   nib bench cpu [--quick]                 CPU kernels, reference vs fast (vs dnnl: oneDNN, where built)
//   nib bench train-step [--batch 128]      images/s of a training step of the basic CNN
//   nib bench models                        forward and training images/s of every model nib ships
//   nib bench gpu [--quick]                 CUDA kernels vs cuBLAS/cuDNN, training vs PyTorch (CUDA builds only)
#include <cstdio>
#include <cstring>

#include "apps/commands.h"
#include "bench/cpu_ops.h"
#include "bench/models.h"
#include "bench/peak.h"
#include "bench/train_step.h"
#include "util/error.h"
#ifdef NIB_CUDA
#include "bench/cuda/gpu_bench.h"
#endif

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib bench <benchmark> [options]

  cpu          every CPU op of a training step, "reference" vs "fast" kernels
               (GEMM, conv2d, max pool, batch norm, softmax; forward and backward),
               and vs "dnnl" (oneDNN) for conv2d, max pool and batch norm where nib
               was built with it
               --quick  --only TEXT[,TEXT]  --threads N  --ref-limit GFLOP  --budget S
               --no-dnnl  --out DIR  --name NAME (files NAME.json/.md; default cpu_ops_<date>)
  train-step   images/s of a full training step of the basic CNN on MNIST-shaped data
               --batch N  --steps N  --threads N  --device cpu|cuda  --kernels SPEC  --json FILE
  models       forward and training images/s of every model nib ships (mlp, basic-cnn,
               mobilenet_v2, resnet18, vgg16) at its usual input size
               --models LIST  --modes forward,train  --budget S  --threads N  --kernels SPEC
               --json FILE   (bench/models_vs_pytorch.sh: the same in PyTorch, alternating)
  peak         the CPU's clock and FP32 FMA peak, measured in thread CPU time
               (what GEMM efficiency is quoted against)
  gpu          CUDA kernels vs cuBLAS / cuDNN per op and shape (GEMM, linear, conv,
               memory-bound ops) and a basic-CNN training step vs PyTorch on the GPU
               --quick  --headline  --only gemm,conv,memory,train  --repeats N  --budget-ms MS
               --steps N  --python PATH  --pytorch-script PATH  --out DIR
               --info (the device and library versions only)

Results are written to bench/results/ (JSON and Markdown, with the machine and date).
bench/train_step_vs_pytorch.sh compares train-step with PyTorch on the same cores.
)";

}  // namespace

int bench(int argc, char** argv) {
  if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h")) {
    std::fputs(kHelp, stdout);
    return argc < 3 ? 1 : 0;
  }
  const std::string which = argv[2];
  if (which == "cpu") return nib::bench::cpu_ops(argc, argv);
  if (which == "train-step") return nib::bench::train_step(argc, argv);
  if (which == "models") return nib::bench::models_bench(argc, argv);
  if (which == "peak") return nib::bench::peak(argc, argv);
  if (which == "gpu") {
#ifdef NIB_CUDA
    return nib_gpu_bench(argc - 2, argv + 2);  // it reads its options from its argv[1]
#else
    fail("the GPU benchmark needs a CUDA build of nib (cmake -DNIB_CUDA=ON); this one was built without CUDA");
#endif
  }
  fail("unknown benchmark '", which, "' (expected cpu, train-step, models, peak or gpu; see nib bench --help)");
}

}  // namespace nib::apps
