// nib finetune: transfer learning. A pretrained base (its classifier cut off)
// gets a new head; the base is frozen, optionally partly unfrozen after a few
// epochs; the run directory is the same as nib train's, so nib predict works.
//
//   nib finetune --model vgg16 --weights imagenet --data mnist --image-size 32 --limit 5000 --cache-features
//   nib finetune --weights ../shared/data/pretrained/mobilenet_v2_tflite_dequant.safetensors
//                --data ../shared/data/hand_written_digits --channels 1 --image-size 96 --val-split 0.2
//                --head gap,dense128,dropout0.5 --freeze base --cache-features --epochs 5
//
// The two stages (head on a frozen base, then the last blocks unfrozen) are
// train/finetune.h; this file reads the options, loads data and model, and
// reports.
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/run_settings.h"
#include "kernels/registry.h"
#include "kernels/runtime_flags.h"
#include "layers/state_dict.h"
#include "models/head.h"
#include "models/transfer.h"
#include "tensor/random.h"
#include "train/finetune.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/training_data.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib finetune --weights FILE [options]

Transfer learning: a pretrained base with a new head. Writes a run directory
like nib train (model.safetensors, config.json, metrics.csv, history.png,
confusion.png, misclassified.png, correct.png, summary.json); nib predict --model-dir DIR uses it.

model
  --model ARCH|DIR     mobilenet_v2 | vgg16 | resnet18 (default mobilenet_v2), or the run
                       directory of a Keras model converted by nib convert: its layers up
                       to the final Dense are the base (image size and channels: the run's)
  --weights FILE       pretrained weights (.safetensors or .pth), or imagenet for
                       torchvision's ImageNet weights (downloaded on first use); required
                       with an ARCH
  --head SPEC          layers between the base and the final Linear to the classes:
                       gap | flatten | denseN | dropoutP, comma separated
                       (default gap,dense128,dropout0.5)
  --padding P          torch | tf_same (default: from the weights' metadata, else torch)
  --preprocess P       torch | tf | caffe | none (default: from the metadata, else torch)
freezing (the defaults are the two-stage recipe of bench/results/finetune.md)
  --freeze base|none   train the head only (default base) or everything (none)
  --unfreeze SPEC      last:K: after --unfreeze-after epochs, also train the base's
                       last K blocks; none: the head only; auto (default): last:K on
                       small data (<= 10000 training images; K = 6 MobileNetV2,
                       2 ResNet-18, 3 VGG16), none on larger data
  --unfreeze-after E   epochs of the head-only stage (default: half of --epochs)
  --base-lr F          learning rate of the unfrozen blocks (default: --lr / 10)
  --cache-features     compute the frozen base's features once and train the head
  --no-cache-features  on them (default: on whenever the base is frozen and there is
                       no --augment; both stages then train the same way)
data
  --data SPEC          mnist | fashion_mnist | IDX directory | digits .csv | class folders
                       (default mnist; mnist and fashion_mnist are downloaded on first use)
  --image-size N       images resized to N x N (default 96; MobileNetV2 needs >= 32)
  --channels 1|3       channels of folder images (default 3; grayscale is repeated to RGB)
  --val-split F        (default 0.1)   --limit N   --augment SPEC (see nib train --help)
optimisation
  --epochs N (default 10, both stages)  --batch-size N (64)  --optimizer adam|adamw|sgd (adam)
  --lr F (0.001)  --schedule SPEC (default cosine; applied per stage)  --momentum F  --weight-decay F
  --label-smoothing F
run
  --out DIR  --seed N  --device cpu|cuda  --kernels SPEC  --threads N  --quiet
  --resume DIR         continue an interrupted run (its settings come from DIR/config.json)
  --stop-after N       stop after N epochs in this process, as if interrupted
distributed
  mpirun -np N nib finetune ...   data-parallel, as nib train (see nib train --help)
  --dist-timeout S     seconds a rank waits for the others before all stop (default 600)
)";

int64_t count_trainable(const Module& module) {
  int64_t n = 0;
  for (const Tensor& p : module.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}


// One line with the plan of both stages, each default marked so that nobody
// mistakes a choice nib made for one they asked for.
void print_plan(const train::FinetuneOptions& plan, const RunSettings& settings, const std::string& unfreeze_spec,
                const std::string& unfreeze_why, const std::string& cache_setting) {
  auto mark = [&](const std::string& name) { return settings.given(name) ? "" : " (default)"; };
  const int64_t head_epochs = plan.unfreeze_last > 0 ? plan.unfreeze_after : plan.config.epochs;
  std::string text = str("plan    stage 1: ", plan.freeze == "base" ? "the head on a frozen base" : "every layer", ", ",
                         head_epochs, " epochs at lr ", plan.lr, plan.cache_features ? ", on cached features" : "");
  if (plan.unfreeze_last > 0)
    text += str("; stage 2: the last ", plan.unfreeze_last, " blocks join at --base-lr ", plan.base_lr,
                mark("base-lr"), ", ", plan.config.epochs - plan.unfreeze_after, " epochs");
  text += str("; --schedule ", plan.schedule, mark("schedule"), " per stage\n");
  text += str("        --epochs ", plan.config.epochs, mark("epochs"), ", --unfreeze ", unfreeze_spec, mark("unfreeze"));
  if (unfreeze_spec == "auto") text += str(": ", unfreeze_why);
  text += str(", --cache-features ", cache_setting,
              cache_setting == "auto" ? (plan.cache_features ? ": on (frozen base, no augmentation)" : ": off") : "",
              "; every choice can be overridden (nib finetune --help)\n");
  std::fputs(text.c_str(), stdout);
}

}  // namespace

int finetune(int argc, char** argv) {
  Args args(argc, argv, 2, {"quiet", "help", "cache-features", "no-cache-features"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    std::printf("  this build           %s\n", distributed_build_line().c_str());
    return 0;
  }
  // --resume DIR restores every setting from DIR/config.json (as nib train does).
  std::string resume_dir = args.get("resume", "");
  train::RunInfo previous;
  if (!resume_dir.empty()) previous = train::load_run_info(resume_dir);
  RunSettings settings(args, previous.settings);

  // --model: an architecture with --weights, or a run directory of nib convert.
  std::string base_model = settings.text("model", "mobilenet_v2");
  std::optional<train::RunInfo> keras_run;
  if (file_exists(base_model + "/config.json")) keras_run = train::load_run_info(base_model);
  TrainingDefaults defaults{"96", "3", "10", "64", "0.001", "cosine"};
  if (keras_run) {  // the converted model's own input, unless asked otherwise
    defaults.image_size = std::to_string(keras_run->model.image_size);
    defaults.channels = std::to_string(keras_run->model.in_channels);
  }
  TrainingOptions options = read_training_options(settings, args, defaults);
  train::DataOptions& data_options = options.data;
  train::TrainConfig& config = options.config;

  models::TransferConfig model_config;
  model_config.arch = keras_run ? "keras_graph" : base_model;
  model_config.head = settings.text("head", "gap,dense128,dropout0.5");
  model_config.padding = settings.text("padding", "");
  std::string preprocess = settings.text("preprocess", "");
  std::string weights = settings.text("weights", "");

  train::FinetuneOptions plan;
  plan.freeze = settings.text("freeze", "base");
  // "auto" is decided once the training set's size is known (below).
  const std::string unfreeze_spec = settings.text("unfreeze", "auto");
  const std::string cache_setting = settings.toggle("cache-features", "auto");
  plan.config = options.config;
  const bool after_given = args.has("unfreeze-after");
  const std::string after_setting = settings.text("unfreeze-after", "");
  plan.lr = options.lr;
  plan.base_lr = settings.number("base-lr", str(options.lr / 10));
  plan.optimizer = options.optimizer;
  plan.schedule = options.schedule;
  plan.momentum = options.momentum;
  plan.weight_decay = options.weight_decay;
  kernels::apply_runtime_flags(args);
  args.finish();

  NIB_CHECK(!keras_run || weights.empty(), "--weights: ", base_model, " is a run directory, whose weights are used");
  if (keras_run) weights = base_model + "/model.safetensors";
  NIB_CHECK(!weights.empty(), "--weights is required: the pretrained base, a .safetensors or .pth file, or imagenet");
  NIB_CHECK(keras_run || model_config.arch == "mobilenet_v2" || model_config.arch == "vgg16" ||
                model_config.arch == "resnet18",
            "--model: no pretrained base called '", model_config.arch,
            "' (mobilenet_v2, vgg16, resnet18, or a run directory of nib convert)");
  // Typos are reported before minutes of data loading.
  models::parse_head(model_config.head);
  train::choose_unfreeze(unfreeze_spec, model_config.arch, plan.freeze, 0, config.epochs);
  NIB_CHECK(!after_given || unfreeze_spec != "none", "--unfreeze-after needs --unfreeze last:K or auto");
  plan.augment = data::AugmentConfig::parse(options.augment);
  plan.cache_features = cache_setting == "true" ||
                        (cache_setting == "auto" && plan.freeze == "base" && !plan.augment.any());
  {
    train::FinetuneOptions early = plan;  // what can be checked before the data is known
    early.unfreeze_last = 0;
    early.validate();
  }
  distributed::Communicator& comm = join_ranks(config.device, options.dist_timeout, args.has("threads"));
  plan.config.comm = &comm;
  const bool root = comm.is_root();
  require_device(config.device);

  // ---- Data and model -----------------------------------------------------------
  train::TrainingData data = train::load_training_data(data_options);
  std::printf("data    %s (%lldx%lld)\n", data.description.c_str(), static_cast<long long>(data.train.images.size(2)),
              static_cast<long long>(data.train.images.size(3)));
  model_config.in_channels = data.train.images.size(1);
  model_config.image_size = data.train.images.size(2);
  model_config.classes = data.train.num_classes();
  manual_seed(config.seed);
  // ---- The plan: the defaults that depend on the data, resolved and printed ----------
  train::UnfreezeChoice unfreeze =
      train::choose_unfreeze(unfreeze_spec, model_config.arch, plan.freeze, data.train.size(), config.epochs);
  plan.unfreeze_last = unfreeze.blocks;
  NIB_CHECK(plan.unfreeze_last > 0 || !after_given, "--unfreeze-after needs a second stage, but --unfreeze ",
            unfreeze_spec, " chose none (", unfreeze.why, ")");
  plan.unfreeze_after = after_setting.empty() ? (plan.unfreeze_last > 0 ? config.epochs / 2 : config.epochs)
                                              : settings.integer("unfreeze-after", after_setting);
  plan.validate();
  print_plan(plan, settings, unfreeze_spec, unfreeze.why, cache_setting);

  std::shared_ptr<models::Transfer> model =
      keras_run ? models::load_keras_transfer(model_config, keras_run->model, weights)
                : models::load_transfer(model_config, weights, preprocess);
  train::freeze_for_stage_one(*model, plan);
  model->to(config.device);
  std::printf("model   %s on %s (padding %s, preprocess %s), head %s -> %lld classes\n", model_config.arch.c_str(),
              weights.c_str(), model_config.padding.c_str(), models::preprocess_name(model_config.preprocess),
              model_config.head.c_str(), static_cast<long long>(model_config.classes));
  std::printf("params  %lld, of which %lld trainable\n", static_cast<long long>(model->parameter_count()),
              static_cast<long long>(count_trainable(*model)));
  std::printf("device  %s, kernels: %s\n", config.device.name().c_str(), kernels::describe().c_str());

  train::RunInfo info;
  info.model = models::transfer_spec(model_config);
  info.class_names = data.train.class_names;
  info.data = data_options.spec;
  info.command = resume_dir.empty() ? command_line(argc, argv) : previous.command;
  info.pretrained = weights;
  info.settings = settings.all();
  info.input = data.input_style;
  // Rank 0 names the directory and alone writes into it.
  std::string dir = !resume_dir.empty() ? resume_dir
                    : !options.out.empty() ? options.out
                    : root ? train::fresh_run_dir("runs/finetune-" + model_config.arch)
                           : "";
  dir = distributed::broadcast_text(comm, dir);
  if (root) {
    make_dirs(dir);
    train::save_run_info(dir, info);
  }
  std::printf("run     %s\n\n", dir.c_str());

  train::History history = train::finetune(model, model_config.arch, data, plan, dir, !resume_dir.empty());
  if (history.epochs.empty()) return 130;
  model->eval();
  if (root) save_module(*model, dir + "/model.safetensors", {{"model", "transfer"}, {"base", model_config.arch}});

  // ---- Final evaluation and reports ----------------------------------------------------
  const data::Dataset& final_set = data.has_test() ? data.test : data.validation;
  std::string set_name = data.has_test() ? "test" : "validation";
  train::FinalReport report =
      train::evaluate_and_report(*model, final_set, set_name, info, history, dir, config.device, &comm);
  double seconds = 0;
  for (const auto& e : history.epochs) seconds += e.seconds;
  std::printf("\n%s accuracy: %.2f%% (%lld images); %.1f s per epoch on average\n", set_name.c_str(),
              100.0 * report.accuracy, static_cast<long long>(final_set.size()),
              seconds / static_cast<double>(history.epochs.size()));
  std::printf("reports: %s/{history,confusion,misclassified,correct}.png, metrics.csv, summary.json\n", dir.c_str());
  return history.interrupted ? 130 : 0;
}

}  // namespace nib::apps
