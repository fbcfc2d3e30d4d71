// `nib bench train-step`: images per second of one full training step of the
// default basic CNN (models/basic_cnn.h) on random MNIST-shaped data —
// forward, cross-entropy, backward, Adam step — exactly what `nib train`
// does per batch, minus data loading.
//
// bench/pytorch_reference.py runs the same network and step in PyTorch and
// bench/train_step_vs_pytorch.sh puts the two side by side.
//
// Options: --batch N (default 128), --steps N (timed steps, default 20, after
// 3 warm-up steps), --threads N (default: all cores), --device cpu|cuda,
// --kernels SPEC, --json FILE (also write the result there).
#pragma once

namespace nib::bench {

int train_step(int argc, char** argv);  // argv as given to nib; options from argv[3]

}  // namespace nib::bench
