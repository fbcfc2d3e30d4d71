// Batches for training and evaluation. An Epoch prepares its batches on a
// background thread (gathering rows, augmenting) while the caller trains on
// the previous one, keeping up to `prefetch` batches ready:
//
//   DataLoader loader(train_set, split.train, options);
//   for (int e = start_epoch; e < epochs; ++e) {
//     auto epoch = loader.epoch(e);
//     while (auto batch = epoch.next()) { ... batch->images, batch->labels ... }
//   }
//
// Everything random comes from (seed, epoch, batch) and nothing else, so a run
// resumed at epoch 7 sees exactly the batches an uninterrupted run would.
//
// In data-parallel training each rank makes the same loader with its own
// `shard`: every rank walks the same global batches and takes its block of
// rows of each (distributed/shard.h), so batch_size stays the global batch.
// An image is augmented the same whichever rank takes it.
// Evaluation loaders use shuffle = false and no augmentation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "datasets/augment.h"
#include "datasets/dataset.h"

namespace nib::data {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop a final batch smaller than batch_size
  uint64_t seed = 0;
  AugmentConfig augment;
  int prefetch = 2;  // batches prepared ahead; 0 prepares each one in next(), on the caller's thread
  int shard = 0, shards = 1;  // this rank's part of every batch: rank `shard` of `shards`
};

struct Batch {
  Tensor images;                 // [B, C, H, W] float32, CPU
  Tensor labels;                 // [B] int32, undefined for an unlabelled set
  std::vector<int64_t> indices;  // which dataset examples these are
  int64_t global_rows = 0;       // rows of the whole batch, all shards together
};

class Epoch;

class DataLoader {
 public:
  // `indices` chooses the examples (a split's train or val part, or all_indices).
  DataLoader(const Dataset& dataset, std::vector<int64_t> indices, LoaderOptions options = {});

  int64_t batches_per_epoch() const;
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  const LoaderOptions& options() const { return options_; }
  // Starts epoch `e`; the Epoch owns copies of what it needs, so it may outlive the loader.
  Epoch epoch(int64_t e) const;
  // The example order of epoch `e` (what the epoch's batches are cut from).
  std::vector<int64_t> order(int64_t e) const;

 private:
  Dataset dataset_;  // shares the tensors; cheap to copy
  std::vector<int64_t> indices_;
  LoaderOptions options_;
};

class Epoch {
 public:
  struct State;
  explicit Epoch(std::unique_ptr<State> state);
  Epoch(Epoch&&) noexcept;
  Epoch& operator=(Epoch&&) noexcept;
  ~Epoch();  // stops the background thread, even in the middle of the epoch

  // The next batch, or nothing when the epoch is over. Rethrows an error the
  // background thread met.
  std::optional<Batch> next();

 private:
  std::unique_ptr<State> state_;
};

}  // namespace nib::data
