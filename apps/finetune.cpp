// nib finetune: transfer learning. A pretrained base (its classifier cut off)
// gets a new head; the base is frozen, optionally partly unfrozen after a few
// epochs; the run directory is the same as nib train's, so nib predict works.
//
//   nib finetune --model vgg16 --weights imagenet --data mnist --image-size 32 --limit 5000 --cache-features
//   nib finetune --weights ../shared/data/pretrained/mobilenet_v2_tflite_dequant.safetensors
//                --data ../shared/data/hand_written_digits --channels 1 --image-size 96 --val-split 0.2
//                --head gap,dense128,dropout0.5 --freeze base --cache-features --epochs 5
//
// Two stages, as the Keras transfer-learning guide does them:
//   1. epochs 1..E: base frozen, only the head trains (at --lr). With
//      --cache-features the base runs once over the data and the head trains
//      on the stored features (train/feature_cache.h).
//   2. epochs E+1..N (with --unfreeze last:K --unfreeze-after E): the last K
//      blocks of the base train too, in a second parameter group at --base-lr,
//      through the whole network.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/run_settings.h"
#include "datasets/loader.h"
#include "datasets/split.h"
#include "kernels/registry.h"
#include "layers/state_dict.h"
#include "models/head.h"
#include "models/transfer.h"
#include "optim/optim.h"
#include "tensor/random.h"
#include "train/feature_cache.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/trainer.h"
#include "train/training_data.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib finetune --weights FILE [options]

Transfer learning: a pretrained base with a new head. Writes a run directory
like nib train (model.safetensors, config.json, metrics.csv, history.png,
confusion.png, misclassified.png, correct.png, summary.json); nib predict --model-dir DIR uses it.

model
  --model ARCH         mobilenet_v2 | vgg16 | resnet18 (default mobilenet_v2)
  --weights FILE       pretrained weights (.safetensors or .pth), or imagenet for
                       torchvision's ImageNet weights (downloaded on first use); required
  --head SPEC          layers between the base and the final Linear to the classes:
                       gap | flatten | denseN | dropoutP, comma separated
                       (default gap,dense128,dropout0.5)
  --padding P          torch | tf_same (default: from the weights' metadata, else torch)
  --preprocess P       torch | tf | caffe | none (default: from the metadata, else torch)
freezing
  --freeze base|none   train the head only (default base) or everything (none)
  --unfreeze last:K    after --unfreeze-after E epochs, also train the base's last K blocks
  --unfreeze-after E   (default: half of --epochs when --unfreeze is given)
  --base-lr F          learning rate of the unfrozen blocks (default: --lr / 10)
  --cache-features     compute the frozen base's features once (needs --freeze base, no --augment)
data
  --data SPEC          mnist | fashion_mnist | IDX directory | digits .csv | class folders
                       (default mnist; mnist and fashion_mnist are downloaded on first use)
  --image-size N       images resized to N x N (default 96; MobileNetV2 needs >= 32)
  --channels 1|3       channels of folder images (default 3; grayscale is repeated to RGB)
  --val-split F        (default 0.1)   --limit N   --augment SPEC (see nib train --help)
optimisation
  --epochs N (default 5)  --batch-size N (64)  --optimizer adam|adamw|sgd (adam)  --lr F (0.001)
  --schedule SPEC (constant; applied per stage)  --momentum F  --weight-decay F  --label-smoothing F
run
  --out DIR  --seed N  --device cpu|cuda  --kernels SPEC  --threads N  --quiet
  --resume DIR         continue an interrupted run (its settings come from DIR/config.json)
  --stop-after N       stop after N epochs in this process, as if interrupted
)";

// Trainable parameters only: frozen ones get no optimizer state.
std::vector<Tensor> trainable(const Module& module) {
  std::vector<Tensor> out;
  for (const Tensor& p : module.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

int64_t parse_unfreeze(const std::string& spec) {
  if (spec.empty()) return 0;
  char* end = nullptr;
  long long k = spec.rfind("last:", 0) == 0 ? std::strtoll(spec.c_str() + 5, &end, 10) : 0;
  NIB_CHECK(end && *end == '\0' && k > 0, "--unfreeze expects last:K with K > 0 (e.g. last:3), got '", spec, "'");
  return k;
}

}  // namespace

int finetune(int argc, char** argv) {
  Args args(argc, argv, 2, {"quiet", "help", "cache-features"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  // --resume DIR restores every setting from DIR/config.json (as nib train does).
  std::string resume_dir = args.get("resume", "");
  train::RunInfo previous;
  if (!resume_dir.empty()) previous = train::load_run_info(resume_dir);
  RunSettings settings(args, previous.settings);

  TrainingOptions options = read_training_options(settings, args, {"96", "3", "5", "0.001", "constant"});
  train::DataOptions& data_options = options.data;
  train::TrainConfig& config = options.config;

  models::TransferConfig model_config;
  model_config.arch = settings.text("model", "mobilenet_v2");
  model_config.head = settings.text("head", "gap,dense128,dropout0.5");
  model_config.padding = settings.text("padding", "");
  std::string preprocess = settings.text("preprocess", "");
  std::string weights = settings.text("weights", "");

  std::string freeze = settings.text("freeze", "base");
  int64_t unfreeze_k = parse_unfreeze(settings.text("unfreeze", ""));
  bool cache = settings.flag("cache-features");

  const bool after_given = args.has("unfreeze-after");
  int64_t unfreeze_after = settings.integer(
      "unfreeze-after", std::to_string(unfreeze_k > 0 ? config.epochs / 2 : config.epochs));
  const double lr = options.lr;
  double base_lr = settings.number("base-lr", str(lr / 10));
  configure_runtime(args);
  args.finish();

  NIB_CHECK(!weights.empty(), "--weights is required: the pretrained base, a .safetensors or .pth file, or imagenet");
  NIB_CHECK(freeze == "base" || freeze == "none", "--freeze expects base or none, got '", freeze, "'");
  NIB_CHECK(unfreeze_k > 0 || !after_given, "--unfreeze-after needs --unfreeze last:K (which blocks to train)");
  NIB_CHECK(unfreeze_k == 0 || freeze == "base", "--unfreeze needs a frozen base (--freeze base)");
  NIB_CHECK(unfreeze_k == 0 || (unfreeze_after >= 1 && unfreeze_after < config.epochs), "--unfreeze-after ",
            unfreeze_after, " leaves no epoch for the frozen or the unfrozen stage (--epochs ", config.epochs, ")");
  NIB_CHECK(model_config.arch == "mobilenet_v2" || model_config.arch == "vgg16" || model_config.arch == "resnet18",
            "--model: no pretrained base called '", model_config.arch, "' (mobilenet_v2, vgg16 or resnet18)");
  models::parse_head(model_config.head);  // a typo is reported before minutes of data loading
  data::AugmentConfig augment = data::AugmentConfig::parse(options.augment);
  NIB_CHECK(!cache || freeze == "base", "--cache-features needs a frozen base (--freeze base)");
  NIB_CHECK(!cache || options.augment == "none",
            "--cache-features stores each image's features once, so it cannot be combined with --augment");
  require_device(config.device);

  // ---- Data and model -----------------------------------------------------------
  train::TrainingData data = train::load_training_data(data_options);
  std::printf("data    %s (%lldx%lld)\n", data.description.c_str(), static_cast<long long>(data.train.images.size(2)),
              static_cast<long long>(data.train.images.size(3)));
  model_config.in_channels = data.train.images.size(1);
  model_config.image_size = data.train.images.size(2);
  model_config.classes = data.train.num_classes();
  manual_seed(config.seed);
  std::shared_ptr<models::Transfer> model = models::load_transfer(model_config, weights, preprocess);
  if (freeze == "base") model->base->freeze();
  model->to(config.device);
  std::printf("model   %s on %s (padding %s, preprocess %s), head %s -> %lld classes\n", model_config.arch.c_str(),
              weights.c_str(), model_config.padding.c_str(), models::preprocess_name(model_config.preprocess),
              model_config.head.c_str(), static_cast<long long>(model_config.classes));
  int64_t trainable_count = 0;
  for (const Tensor& p : trainable(*model)) trainable_count += p.numel();
  std::printf("params  %lld, of which %lld trainable\n", static_cast<long long>(model->parameter_count()),
              static_cast<long long>(trainable_count));
  std::printf("device  %s, kernels: %s\n", config.device.name().c_str(), kernels::describe().c_str());

  train::RunInfo info;
  info.model = models::transfer_spec(model_config);
  info.class_names = data.train.class_names;
  info.data = data_options.spec;
  info.command = resume_dir.empty() ? command_line(argc, argv) : previous.command;
  info.pretrained = weights;
  info.settings = settings.all();
  info.input = data.input_style;
  std::string dir = !resume_dir.empty() ? resume_dir
                    : !options.out.empty() ? options.out
                                        : train::fresh_run_dir("runs/finetune-" + model_config.arch);
  make_dirs(dir);
  train::save_run_info(dir, info);
  std::printf("run     %s\n\n", dir.c_str());

  // Each stage has its own checkpoint: the two train different parameters
  // (stage 1 with cached features trains the head alone) with different
  // optimizer groups. --resume continues the stage that was running.
  const std::string head_checkpoint = dir + "/checkpoint.safetensors";
  const std::string unfrozen_checkpoint = dir + "/checkpoint-unfrozen.safetensors";
  const bool resume = !resume_dir.empty();

  // ---- Stage 1: the head on a frozen base (or everything with --freeze none) ---------
  std::unique_ptr<optim::Optimizer> optimizer =
      optim::make_optimizer(options.optimizer, trainable(*model), static_cast<float>(lr),
                            static_cast<float>(options.momentum), static_cast<float>(options.weight_decay));
  train::History history;
  int64_t epochs_left = config.stop_after;  // --stop-after: epochs still to train in this process (0 = no limit)
  auto run_stage = [&](Module& trained, const data::Dataset& train_set, const data::Dataset& val_set,
                       int64_t epochs, const std::string& checkpoint) {
    data::LoaderOptions loader_options;
    loader_options.batch_size = config.batch_size;
    loader_options.seed = config.seed + history.epochs.size();  // a different order per stage
    loader_options.augment = augment;
    data::DataLoader loader(train_set, data::all_indices(train_set.size()), loader_options);
    auto schedule = optim::parse_schedule(options.schedule, static_cast<float>(lr), epochs * loader.batches_per_epoch(),
                                          loader.batches_per_epoch());
    train::TrainConfig stage_config = config;
    stage_config.epochs = epochs;
    stage_config.seed = config.seed + history.epochs.size();  // fresh dropout masks in stage 2
    stage_config.checkpoint_path = checkpoint;
    stage_config.stop_after = epochs_left;
    const size_t before = history.epochs.size();
    train::History stage = train::fit({trained, *optimizer, *schedule, loader, val_set}, stage_config, resume,
                                      [&](const train::History& h) {
                                        if (epochs_left > 0) --epochs_left;
                                        train::History all = history;
                                        for (auto e : h.epochs) {
                                          e.epoch += static_cast<int64_t>(before);
                                          all.epochs.push_back(e);
                                        }
                                        train::write_history(dir, all);
                                      });
    for (auto e : stage.epochs) {
      e.epoch += static_cast<int64_t>(before);
      history.epochs.push_back(e);
    }
    history.interrupted = stage.interrupted;
  };

  // A run resumed in stage 2 has finished stage 1: its checkpoint holds the
  // whole model, so stage 1 (and the feature cache) is skipped.
  const bool in_stage_two = resume && unfreeze_k > 0 && file_exists(unfrozen_checkpoint);
  if (in_stage_two) {
    history = train::read_checkpoint_history(head_checkpoint);
  } else if (cache) {
    auto started = std::chrono::steady_clock::now();
    data::Dataset train_features = train::cache_features(*model, data.train, config.device, 100, config.quiet);
    data::Dataset val_features = train::cache_features(*model, data.validation, config.device, 100, config.quiet);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("cached  features %s of %lld images in %.1fs (%.1f images/s)\n\n",
                train_features.images.shape().str().c_str(),
                static_cast<long long>(data.train.size() + data.validation.size()), seconds,
                (data.train.size() + data.validation.size()) / seconds);
    models::TransferHead head(model);
    run_stage(head, train_features, val_features, unfreeze_after, head_checkpoint);
  } else {
    run_stage(*model, data.train, data.validation, unfreeze_after, head_checkpoint);
  }

  // ---- Stage 2: the last K blocks of the base join at --base-lr ----------------------
  if (unfreeze_k > 0 && !history.interrupted && config.stop_after > 0 && epochs_left == 0) {
    history.interrupted = true;  // --stop-after reached exactly at the end of stage 1
    std::printf("Stopping after stage 1 as asked (--stop-after); continue with --resume\n");
  }
  if (unfreeze_k > 0 && !history.interrupted) {
    std::vector<std::string> blocks = models::unfreeze_last_blocks(*model, model_config.arch, unfreeze_k);
    std::vector<Tensor> base_params;
    for (const std::string& name : blocks)
      for (const Tensor& p : model->base->find(name)->parameters()) base_params.push_back(p);
    optimizer->set_lr(0, static_cast<float>(lr));  // fit() keeps the groups' ratio: base-lr / lr
    optimizer->add_param_group({base_params, static_cast<float>(base_lr), static_cast<float>(options.weight_decay)});
    std::string joined;
    for (const auto& b : blocks) joined += (joined.empty() ? "" : ", ") + b;
    std::printf("\nunfreezing %s (lr %g)\n", joined.c_str(), base_lr);
    run_stage(*model, data.train, data.validation, config.epochs - unfreeze_after, unfrozen_checkpoint);
  }
  if (history.epochs.empty()) return 130;
  model->eval();
  save_module(*model, dir + "/model.safetensors", {{"model", "transfer"}, {"base", model_config.arch}});

  // ---- Final evaluation and reports ----------------------------------------------------
  const data::Dataset& final_set = data.has_test() ? data.test : data.validation;
  std::string set_name = data.has_test() ? "test" : "validation";
  train::FinalReport report =
      train::evaluate_and_report(*model, final_set, set_name, info, history, dir, config.device);
  double seconds = 0;
  for (const auto& e : history.epochs) seconds += e.seconds;
  std::printf("\n%s accuracy: %.2f%% (%lld images); %.1f s per epoch on average\n", set_name.c_str(),
              100.0 * report.accuracy, static_cast<long long>(final_set.size()),
              seconds / static_cast<double>(history.epochs.size()));
  std::printf("reports: %s/{history,confusion,misclassified,correct}.png, metrics.csv, summary.json\n", dir.c_str());
  return history.interrupted ? 130 : 0;
}

}  // namespace nib::apps
