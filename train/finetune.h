// Fine-tuning a pretrained base with a new head, in the two stages the Keras
// transfer-learning guide uses (what `nib finetune` runs):
//
//   1. epochs 1..E: the base frozen (BatchNorm in inference mode), only the
//      head trains at `lr`. With cache_features the base runs once over the
//      data and the head trains on the stored features (train/feature_cache.h),
//      which is the same computation, many times faster.
//   2. epochs E+1..N, when unfreeze_last = K > 0: the last K blocks of the
//      base train too, in a second parameter group at `base_lr`, through the
//      whole network.
//
// Each stage writes its own checkpoint in the run directory after every epoch
// (checkpoint.safetensors, checkpoint-unfrozen.safetensors): the two train
// different parameters with different optimizer groups. A resumed run
// continues the stage that was running; one resumed in stage 2 skips stage 1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "datasets/augment.h"
#include "models/transfer.h"
#include "train/trainer.h"
#include "train/training_data.h"

namespace nib::train {

struct FinetuneOptions {
  std::string freeze = "base";  // base: stage 1 trains the head alone; none: everything from the start
  int64_t unfreeze_last = 0;    // K blocks of the base that join in stage 2 (0: no stage 2)
  int64_t unfreeze_after = 0;   // epochs of stage 1; the rest of config.epochs are stage 2
  double lr = 1e-3;             // the head's (and with freeze none, everything's)
  double base_lr = 1e-4;        // the unfrozen blocks' in stage 2
  std::string optimizer = "adam";
  std::string schedule = "constant";  // applied per stage
  double momentum = 0.9, weight_decay = 0;
  bool cache_features = false;
  data::AugmentConfig augment;
  TrainConfig config;  // epochs (both stages), batch size, seed, device, stop_after, quiet

  // Throws nib::Error naming the options that do not go together.
  void validate() const;
};

// ---- The defaults nib finetune chooses when not told (bench/results/defaults.md) ----
//
// On small data (at most kSmallTrainingSet training images) the recipe that
// did best in bench/results/finetune.md: half the epochs on the head alone
// (on cached features), then the last blocks of the base unfrozen at lr / 10,
// both stages with a cosine schedule. On larger data the head alone (a pass
// through the unfrozen blocks per epoch would cost far more there).
inline constexpr int64_t kSmallTrainingSet = 10000;
// The blocks "auto" unfreezes per architecture: MobileNetV2's features.13-18
// (its last two stages), ResNet-18's layer4, VGG16's conv5 block.
int64_t default_unfreeze_blocks(const std::string& arch);

struct UnfreezeChoice {
  int64_t blocks = 0;  // K of last:K; 0 = no stage 2
  std::string why;     // for "auto": the reason, printed with the plan
};
// Reads --unfreeze: "last:K", "none", or "auto" (K = default_unfreeze_blocks
// when the base is frozen, the training set is small and there are at least
// 2 epochs; otherwise none).
UnfreezeChoice choose_unfreeze(const std::string& spec, const std::string& arch, const std::string& freeze,
                               int64_t train_images, int64_t epochs);

// Freezes the base when the options say so (stage 1); safe to call twice.
void freeze_for_stage_one(models::Transfer& model, const FinetuneOptions& options);

// Runs both stages on `model` (built on `arch`), writing checkpoints and
// metrics.csv into run_dir after every epoch. The history counts epochs
// across stages; `interrupted` is set when Ctrl-C or stop_after ended it.
History finetune(const std::shared_ptr<models::Transfer>& model, const std::string& arch,
                 const TrainingData& data, const FinetuneOptions& options, const std::string& run_dir, bool resume);

}  // namespace nib::train
