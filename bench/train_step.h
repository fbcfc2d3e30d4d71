// `nib bench train-step`: images per second of one full training step of the
// default basic CNN (models/basic_cnn.h) on random MNIST-shaped data —
// forward, cross-entropy, backward, Adam step — exactly what `nib train`
// does per batch, minus data loading.
//
// bench/pytorch_reference.py runs the same network and step in PyTorch and
// bench/train_step_vs_pytorch.sh puts the two side by side; `nib bench gpu`
// calls measure_train_step for its end-to-end rows.
//
// Options: --batch N (default 128), --steps N (timed steps, default 20, after
// 3 warm-up steps), --threads N (default: all cores), --device cpu|cuda,
// --kernels SPEC, --json FILE (also write the result there).
#pragma once

#include <cstdint>

#include "device/device.h"

namespace nib::bench {

int train_step(int argc, char** argv);  // argv as given to nib; options from argv[3]

struct TrainStepTiming {
  int64_t batch = 0, steps = 0, warmup = 0;
  double step_ms = 0;  // median over the timed steps
  double images_per_s = 0;
  // Medians of each phase; 0 unless measured per phase.
  double forward_ms = 0, loss_ms = 0, backward_ms = 0, optimizer_ms = 0;
};

// Builds the basic CNN on `device` (seeded, so every call trains the same
// network on the same batch), runs `warmup` untimed steps, then times
// `steps` steps with the kernels selected now (kernels::configure).
//
// per_phase: also time forward, loss, backward and the optimizer step
// separately. On a GPU that means waiting for the device between phases,
// which keeps the next phase's launches from overlapping the previous
// phase's kernels: the step is then slower than in training. Throughput
// comparisons (nib bench gpu) pass false: one wait per step.
TrainStepTiming measure_train_step(int64_t batch, int64_t steps, Device device, bool per_phase, int64_t warmup = 3);

}  // namespace nib::bench
