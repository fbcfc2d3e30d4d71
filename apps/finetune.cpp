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
  TrainingDefaults defaults{"96", "3", "5", "0.001", "constant"};
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
  plan.unfreeze_last = parse_unfreeze(settings.text("unfreeze", ""));
  plan.cache_features = settings.flag("cache-features");
  plan.config = options.config;
  const bool after_given = args.has("unfreeze-after");
  plan.unfreeze_after = settings.integer(
      "unfreeze-after", std::to_string(plan.unfreeze_last > 0 ? config.epochs / 2 : config.epochs));
  plan.lr = options.lr;
  plan.base_lr = settings.number("base-lr", str(options.lr / 10));
  plan.optimizer = options.optimizer;
  plan.schedule = options.schedule;
  plan.momentum = options.momentum;
  plan.weight_decay = options.weight_decay;
  configure_runtime(args);
  args.finish();

  NIB_CHECK(!keras_run || weights.empty(), "--weights: ", base_model, " is a run directory, whose weights are used");
  if (keras_run) weights = base_model + "/model.safetensors";
  NIB_CHECK(!weights.empty(), "--weights is required: the pretrained base, a .safetensors or .pth file, or imagenet");
  NIB_CHECK(plan.unfreeze_last > 0 || !after_given, "--unfreeze-after needs --unfreeze last:K (which blocks to train)");
  NIB_CHECK(keras_run || model_config.arch == "mobilenet_v2" || model_config.arch == "vgg16" ||
                model_config.arch == "resnet18",
            "--model: no pretrained base called '", model_config.arch,
            "' (mobilenet_v2, vgg16, resnet18, or a run directory of nib convert)");
  models::parse_head(model_config.head);  // a typo is reported before minutes of data loading
  plan.augment = data::AugmentConfig::parse(options.augment);
  plan.validate();
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
