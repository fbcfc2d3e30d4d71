// nib's C++ API in one include, for programs built on nib (examples/):
//
//   #include <nib/nib.h>     with   find_package(nib) and target_link_libraries(app nib::nib_core)
//
// Tensors and autograd, the ops, layers and models, optimizers and
// schedules, data sets and the loader, training and evaluation, feature
// extraction. Each header says what it offers; docs/architecture.md how they
// fit together.
#pragma once

#include "datasets/data_source.h"
#include "datasets/loader.h"
#include "datasets/split.h"
#include "layers/layers.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "retrieval/features.h"
#include "tensor/autograd.h"
#include "tensor/graph_dot.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "train/evaluate.h"
#include "train/trainer.h"
#include "util/error.h"
