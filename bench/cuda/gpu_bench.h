// The GPU benchmark: every CUDA GEMM rung against cuBLAS, and nib's
// convolutions against cuDNN on layers of VGG16, ResNet18 and MobileNetV2.
#pragma once

// Options: --quick (smaller sizes, for a smoke run), --batch N (conv batch,
// default 16), --out DIR (default bench/results). Prints a table and writes
// DIR/<device>_<date>.json and .md. Returns 0, or 2 with a message when no
// GPU is usable.
int nib_gpu_bench(int argc, char** argv);
