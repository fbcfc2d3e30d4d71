#include "train/finetune.h"

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>

#include "datasets/loader.h"
#include "distributed/communicator.h"
#include "datasets/split.h"
#include "optim/optim.h"
#include "train/feature_cache.h"
#include "train/report.h"
#include "util/error.h"
#include "util/files.h"

namespace nib::train {

namespace {

distributed::Communicator& ranks(const TrainConfig& config) {
  return config.comm ? *config.comm : distributed::single_process();
}

// Trainable parameters only: frozen ones get no optimizer state.
std::vector<Tensor> trainable(const Module& module) {
  std::vector<Tensor> out;
  for (const Tensor& p : module.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

// One stage after another, with one history, one optimizer (stage 2 adds the
// base's group to it) and one --stop-after budget across both.
class Stages {
 public:
  Stages(const FinetuneOptions& options, const std::string& run_dir, bool resume, optim::Optimizer& optimizer)
      : options_(options), run_dir_(run_dir), resume_(resume), optimizer_(optimizer),
        epochs_left_(options.config.stop_after) {}

  void run(Module& trained, const data::Dataset& train_set, const data::Dataset& val_set, int64_t epochs,
           const std::string& checkpoint) {
    const TrainConfig& config = options_.config;
    const size_t before = history_.epochs.size();
    distributed::Communicator& comm = ranks(config);
    data::LoaderOptions loader_options;
    loader_options.batch_size = config.batch_size;
    loader_options.shard = comm.rank();
    loader_options.shards = comm.size();
    loader_options.seed = config.seed + before;  // a different order per stage
    loader_options.augment = options_.augment;
    data::DataLoader loader(train_set, data::all_indices(train_set.size()), loader_options);
    auto schedule = optim::parse_schedule(options_.schedule, static_cast<float>(options_.lr),
                                          epochs * loader.batches_per_epoch(), loader.batches_per_epoch());
    TrainConfig stage_config = config;
    stage_config.epochs = epochs;
    stage_config.seed = config.seed + before;  // fresh dropout masks in stage 2
    stage_config.checkpoint_path = checkpoint;
    stage_config.stop_after = epochs_left_;
    History stage = fit({trained, optimizer_, *schedule, loader, val_set}, stage_config, resume_,
                        [&](const History& h) {
                          if (epochs_left_ > 0) --epochs_left_;
                          if (comm.is_root()) write_history(run_dir_, joined(h, before));
                        });
    history_ = joined(stage, before);
    history_.interrupted = stage.interrupted;
  }

  // Resuming in stage 2: stage 1's epochs come from its checkpoint.
  void restore(History stage_one) { history_ = std::move(stage_one); }
  // True when --stop-after used up its epochs exactly at the end of stage 1.
  bool budget_spent() const { return options_.config.stop_after > 0 && epochs_left_ == 0; }
  History& history() { return history_; }

 private:
  // The history so far followed by `stage`'s epochs, numbered on from `before`.
  History joined(const History& stage, size_t before) const {
    History all;
    all.epochs.assign(history_.epochs.begin(), history_.epochs.begin() + static_cast<std::ptrdiff_t>(before));
    for (EpochRecord e : stage.epochs) {
      e.epoch += static_cast<int64_t>(before);
      all.epochs.push_back(e);
    }
    return all;
  }

  const FinetuneOptions& options_;
  const std::string& run_dir_;
  const bool resume_;
  optim::Optimizer& optimizer_;
  int64_t epochs_left_;  // --stop-after: epochs still to train in this process (0 = no limit)
  History history_;
};

}  // namespace

int64_t default_unfreeze_blocks(const std::string& arch) {
  if (arch == "mobilenet_v2") return 6;  // features.13-18
  if (arch == "resnet18") return 2;      // layer4.0, layer4.1
  if (arch == "vgg16") return 3;         // conv5_1-3
  fail("--unfreeze auto: no default for architecture '", arch, "' (known: mobilenet_v2, vgg16, resnet18)");
}

UnfreezeChoice choose_unfreeze(const std::string& spec, const std::string& arch, const std::string& freeze,
                               int64_t train_images, int64_t epochs) {
  UnfreezeChoice choice;
  if (spec == "none" || spec.empty()) return choice;
  if (spec == "auto") {
    if (freeze != "base") {
      choice.why = "everything trains from the start (--freeze none)";
    } else if (arch == "keras_graph") {
      choice.why = "a converted Keras model has no known blocks: the head alone (--unfreeze last:K trains its last K layers too)";
    } else if (epochs < 2) {
      choice.why = "one epoch leaves no room for a second stage";
    } else if (train_images > kSmallTrainingSet) {
      choice.why = str(train_images, " training images > ", kSmallTrainingSet,
                       ": the head alone (an unfrozen epoch would run the whole base over all of them; --unfreeze last:",
                       default_unfreeze_blocks(arch), " asks for it)");
    } else {
      choice.blocks = default_unfreeze_blocks(arch);
      choice.why = str(train_images, " training images <= ", kSmallTrainingSet, ": head first, then the last ",
                       choice.blocks, " blocks");
    }
    return choice;
  }
  char* end = nullptr;
  long long k = spec.rfind("last:", 0) == 0 ? std::strtoll(spec.c_str() + 5, &end, 10) : 0;
  NIB_CHECK(end && *end == '\0' && k > 0, "--unfreeze expects last:K with K > 0 (e.g. last:3), none or auto, got '",
            spec, "'");
  choice.blocks = k;
  return choice;
}

void FinetuneOptions::validate() const {
  NIB_CHECK(freeze == "base" || freeze == "none", "--freeze expects base or none, got '", freeze, "'");
  NIB_CHECK(unfreeze_last >= 0, "--unfreeze expects last:K with K > 0");
  NIB_CHECK(unfreeze_last == 0 || freeze == "base", "--unfreeze needs a frozen base (--freeze base)");
  NIB_CHECK(unfreeze_last == 0 || (unfreeze_after >= 1 && unfreeze_after < config.epochs), "--unfreeze-after ",
            unfreeze_after, " leaves no epoch for the frozen or the unfrozen stage (--epochs ", config.epochs, ")");
  NIB_CHECK(!cache_features || freeze == "base", "--cache-features needs a frozen base (--freeze base)");
  NIB_CHECK(!cache_features || !augment.any(),
            "--cache-features stores each image's features once, so it cannot be combined with --augment");
}

void freeze_for_stage_one(models::Transfer& model, const FinetuneOptions& options) {
  if (options.freeze == "base") model.base->freeze();
}

History finetune(const std::shared_ptr<models::Transfer>& transfer, const std::string& arch,
                 const TrainingData& data, const FinetuneOptions& options, const std::string& run_dir, bool resume) {
  options.validate();
  models::Transfer& model = *transfer;
  freeze_for_stage_one(model, options);
  const std::string head_checkpoint = run_dir + "/checkpoint.safetensors";
  const std::string unfrozen_checkpoint = run_dir + "/checkpoint-unfrozen.safetensors";
  const int64_t stage_one_epochs = options.unfreeze_last > 0 ? options.unfreeze_after : options.config.epochs;

  // ---- Stage 1: the head on a frozen base (or everything with freeze none) ----
  std::unique_ptr<optim::Optimizer> optimizer =
      optim::make_optimizer(options.optimizer, trainable(model), static_cast<float>(options.lr),
                            static_cast<float>(options.momentum), static_cast<float>(options.weight_decay));
  Stages stages(options, run_dir, resume, *optimizer);
  // A run resumed in stage 2 has finished stage 1: its checkpoint holds the
  // whole model, so stage 1 (and the feature cache) is skipped.
  distributed::Communicator& comm = ranks(options.config);
  const bool in_stage_two = distributed::broadcast_flag(
      comm, resume && options.unfreeze_last > 0 && comm.is_root() && file_exists(unfrozen_checkpoint));
  if (in_stage_two) {
    stages.restore(read_checkpoint_history(head_checkpoint));
  } else if (options.cache_features) {
    const TrainConfig& config = options.config;
    auto started = std::chrono::steady_clock::now();
    data::Dataset train_features = cache_features(model, data.train, config.device, 100, config.quiet, &comm);
    data::Dataset val_features = cache_features(model, data.validation, config.device, 100, config.quiet, &comm);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("cached  features %s of %lld images in %.1fs (%.1f images/s)\n\n",
                train_features.images.shape().str().c_str(),
                static_cast<long long>(data.train.size() + data.validation.size()), seconds,
                (data.train.size() + data.validation.size()) / seconds);
    models::TransferHead head(transfer);
    stages.run(head, train_features, val_features, stage_one_epochs, head_checkpoint);
  } else {
    stages.run(model, data.train, data.validation, stage_one_epochs, head_checkpoint);
  }

  // ---- Stage 2: the last K blocks of the base join at base_lr ----
  History& history = stages.history();
  if (options.unfreeze_last == 0 || history.interrupted) return history;
  if (stages.budget_spent()) {
    history.interrupted = true;
    std::printf("Stopping after stage 1 as asked (--stop-after); continue with --resume\n");
    return history;
  }
  std::vector<std::string> blocks = models::unfreeze_last_blocks(model, arch, options.unfreeze_last);
  std::vector<Tensor> base_params;
  for (const std::string& name : blocks)
    for (const Tensor& p : model.base->find(name)->parameters()) base_params.push_back(p);
  optimizer->set_lr(0, static_cast<float>(options.lr));  // fit() keeps the groups' ratio: base_lr / lr
  optimizer->add_param_group(
      {base_params, static_cast<float>(options.base_lr), static_cast<float>(options.weight_decay)});
  std::string joined;
  for (const auto& b : blocks) joined += (joined.empty() ? "" : ", ") + b;
  std::printf("\nunfreezing %s (lr %g)\n", joined.c_str(), options.base_lr);
  stages.run(model, data.train, data.validation, options.config.epochs - options.unfreeze_after,
             unfrozen_checkpoint);
  return stages.history();
}

}  // namespace nib::train
