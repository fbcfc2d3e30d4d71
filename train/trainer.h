// The training loop behind `nib train` and `nib finetune`: what model.fit()
// does in Keras, written out so it can be read top to bottom.
//
// One epoch: for each batch, set the learning rate from the schedule, run the
// model, take the cross-entropy loss, backpropagate, step the optimizer. After
// each epoch: evaluate on the validation set, append to the history, and save
// a checkpoint atomically (model + optimizer + history), so an interrupted run
// (Ctrl-C, a crash, a killed job) resumes from the last finished epoch and
// continues exactly as if it had never stopped: batch order and dropout masks
// are functions of (seed, epoch), not of how long the process has lived.
//
// Data-parallel (config.comm with several ranks, docs/distributed.md): every
// rank runs fit() on its shard of each global batch (the loader's shard);
// parameters start as rank 0's; after backward the gradients are averaged
// across ranks (distributed/gradient_sync.h), so every rank takes the same
// step. Evaluation is split across ranks and gathered. Rank 0 alone prints
// progress and writes checkpoints; on --resume every rank reads the
// checkpoint (the run directory must be readable by all).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace nib::distributed {
class Communicator;
}

namespace nib::train {

struct TrainConfig {
  int64_t epochs = 6;
  int64_t batch_size = 64;
  float label_smoothing = 0.0f;
  uint64_t seed = 1;
  Device device = kCPU;
  std::string checkpoint_path;  // "" = no checkpoints
  int64_t eval_batch_size = 500;
  bool quiet = false;           // no progress bars (tests)
  int64_t stop_after = 0;       // > 0: stop after this many epochs in this process, as if interrupted
  distributed::Communicator* comm = nullptr;  // the ranks training together; nullptr: this process alone
};

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;  // at the end of the epoch
  double seconds = 0;
  double images_per_second = 0;
};

struct History {
  std::vector<EpochRecord> epochs;
  bool interrupted = false;  // stopped by Ctrl-C before the last epoch
};

// The pieces a run trains with. The optimizer already holds the model's
// trainable parameters; the schedule gives the learning rate per global step.
struct TrainSetup {
  Module& model;
  optim::Optimizer& optimizer;
  const optim::Schedule& schedule;
  data::DataLoader& train_loader;   // sharded as config.comm says (LoaderOptions::shard, shards)
  const data::Dataset& validation;  // may be empty (size 0): no validation
};

// Called after each epoch's checkpoint is written (reports, plots), on every
// rank: only rank 0 should write files.
using EpochCallback = std::function<void(const History&)>;

// Trains for config.epochs epochs, resuming from config.checkpoint_path when
// `resume` is set and the file exists. Ctrl-C stops at the next batch; the
// partial epoch is dropped and everything saved before stays.
History fit(TrainSetup setup, const TrainConfig& config, bool resume, const EpochCallback& on_epoch = {});

// Writes model and optimizer state plus the history to a safetensors file
// atomically, and reads it back (throws naming the file on any mismatch).
void save_checkpoint(const std::string& path, const Module& model, const optim::Optimizer& optimizer,
                     const History& history);
History load_checkpoint(const std::string& path, Module& model, optim::Optimizer& optimizer);
// Only the history a checkpoint holds (nib finetune --resume, past stage 1).
History read_checkpoint_history(const std::string& path);

// The history as CSV (metrics.csv, and inside checkpoints), one line per epoch.
std::string history_to_csv(const History& history);

// Re-seeds every Dropout below `model` from (seed, epoch, rank): masks depend
// only on where the run is, which makes --resume exact, and differ between
// ranks, whose rows differ.
void reseed_dropout(Module& model, uint64_t seed, int64_t epoch, int rank = 0);

// The SIGINT handler fit() installs sets this; fit() checks it between batches.
// (Only when training alone: under mpirun, Ctrl-C ends every rank, and the
// last finished epoch's checkpoint is what remains.)
bool interrupt_requested();

}  // namespace nib::train
