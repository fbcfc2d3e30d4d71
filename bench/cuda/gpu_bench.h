// `nib bench gpu`: nib's CUDA kernels against cuBLAS / cuDNN, per op and per
// shape, and a basic-CNN training step against PyTorch on the same GPU.
//
// Groups (--only gemm,conv,memory,train; default all):
//   gemm    square GEMMs 1024..8192, every rung of the ladder, cuBLAS with
//           TF32 off and on; the GEMMs of every linear layer
//   conv    every conv layer of the basic CNN, VGG16 (batch 32) and
//           MobileNetV2's distinct depthwise and pointwise convs (batch 64):
//           fwd, bwd-data, bwd-weight vs cuDNN
//   memory  pooling, batch norm, softmax / cross-entropy, ReLU, add, Adam:
//           GB/s and % of the peak bandwidth
//   train   images/s of a training step, batch 128 and 512: nib cuda, nib
//           cudnn+cublas, PyTorch (bench/pytorch_reference.py)
//
// Options: --quick (a small subset of each group; 5 repeats and 10 training
// steps unless given), --headline (the cases the summaries quote: GEMM 4096,
// the basic CNN's and VGG16's conv3_1, MobileNetV2's depthwise and three
// pointwise convs, memory-bound ops on tensors of several times the L2, the
// training step at batch 128 and 512; with --quick, both subsets), --only LIST,
// --repeats N (timed samples per case, default 10), --budget-ms MS (GPU time
// per case before stopping early, default 2000), --steps N (training steps,
// default 20), --python PATH (default python3), --pytorch-script PATH
// (default bench/pytorch_reference.py), --out DIR (default bench/results).
//
// --info prints the device line (name, SMs, driver, CUDA, cuBLAS, cuDNN,
// peaks) and exits.
//
// Prints a table as it goes and writes DIR/<device>_<date>.json and .md.
// Returns 0; 1 with a message when no GPU is usable; 2 on a bad option.
#pragma once

int nib_gpu_bench(int argc, char** argv);  // argv[0] is "gpu", options follow
