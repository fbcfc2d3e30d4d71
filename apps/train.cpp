// nib train: train a classifier and write a run directory with its weights,
// checkpoints, metrics and pictures (see train/run_dir.h).
//
//   nib train                                   the basic CNN on MNIST
//   nib train --data ../shared/data/hand_written_digits --image-size 64 --augment digits
//   nib train --model mlp --epochs 10
//   nib train --resume runs/basic-cnn-mnist     continue an interrupted run
//   mpirun -np 4 nib train --batch-size 256     data-parallel on 4 processes (docs/distributed.md)
#include <cstdio>
#include <cstdlib>
#include <omp.h>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/run_settings.h"
#include "datasets/loader.h"
#include "datasets/split.h"
#include "kernels/registry.h"
#include "kernels/runtime_flags.h"
#include "layers/state_dict.h"
#include "optim/optim.h"
#include "tensor/random.h"
#include "train/finetune.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/trainer.h"
#include "train/training_data.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib train [options]

Trains a classifier and writes runs/<model>-<data>/ (weights, checkpoint,
metrics.csv, history.png, confusion.png, misclassified.png, correct.png,
class_distribution.png, summary.json).

data
  --data SPEC          mnist | fashion_mnist | a directory of IDX files |
                       a Kaggle digits .csv | a directory of class folders
                       (default: mnist; mnist and fashion_mnist are downloaded on
                       first use, see nib data)
  --image-size N       resize folder images to N x N (default 64 for folders)
  --channels 1|3       colour channels for folder images (default 1)
  --val-split F        fraction of the training data held out for validation (default 0.1)
  --limit N            train on the first N training images only (quick runs)
  --skip-bad-images    leave out undecodable images with a warning instead of stopping
  --augment SPEC       none | digits | rotate=10,zoom=0.1,shift=0.1,shear=5,contrast=0.2
                       (training batches only, never validation or test)
model
  --model NAME         basic-cnn | mlp | ... (`nib models` lists them; default basic-cnn)
  --model-options KV   e.g. conv1=16,conv2=32,hidden=64,dropout=0.3; basic-cnn's
                       blocks (conv-pool blocks) is 2 unless given, or more where 2 leave
                       over 16x16 positions before the dense layer (3 from 80x80 input)
optimisation
  --epochs N           (default 5; 6 on small data: at most 10000 training images)
  --batch-size N       (default 128; 64 on small data)
  --optimizer NAME     adam | adamw | sgd (default adam)
  --lr F               peak learning rate (default 0.003; 0.002 on small data)
  --schedule SPEC      onecycle | cosine | constant | step:EPOCHS:GAMMA | warmup:STEPS+cosine
                       (default onecycle)
  --momentum F         SGD momentum (default 0.9)
  --weight-decay F     (default 0; 0.01 for adamw)
  --label-smoothing F  (default 0)
run
  --out DIR            run directory (default runs/<model>-<data>, numbered if it exists)
  --resume DIR         continue the run in DIR from its last finished epoch
  --seed N             seeds weights, split, shuffling, dropout, augmentation (default 1)
  --device cpu|cuda    (default cpu)
  --kernels SPEC       implementation choice, e.g. reference, conv2d=cudnn, cudnn,cublas or cuda,tf32
                       (tf32: TF32 tensor cores allowed in CUDA GEMMs and convolutions)
  --trace              print each op family's implementation and shapes (as NIB_TRACE=1)
  --threads N          CPU threads (default: all cores)
  --stop-after N       stop after N epochs of this run, as if interrupted
                       (continue later with --resume)
  --quiet              no progress bars
distributed (docs/distributed.md)
  mpirun -np N nib train ...
                       data-parallel on N processes (machines: add --hostfile FILE): each
                       rank takes its share of every --batch-size batch, which stays the
                       global batch; rank 0 prints and writes the run directory
  --dist-timeout S     a rank that waits S seconds for the others stops every rank with
                       an error (default 600)
)";

std::string data_name(const std::string& spec) {
  std::string name = spec;
  while (!name.empty() && name.back() == '/') name.pop_back();
  size_t slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  return name.empty() ? "data" : name;
}

// Epochs, batch size and learning rate when none is given, by the size of the
// training set (bench/results/defaults.md has the runs behind them). On
// MNIST-sized data, batch 128 for 5 epochs at lr 0.003 reaches 99.3% test
// accuracy in about 70 s on two idle cores (batch 64 for 6 epochs: 97 s). On
// a few thousand images those are too few steps (the 3-class digit folder:
// 99.57% at 64 px, 99.14% at 100 px), so small data keeps batch 64 for 6
// epochs at lr 0.002 (99.79% and 99.36%). Read through `settings`, so a
// value given (or resumed) wins and the one used is recorded.
void resolve_size_defaults(RunSettings& settings, int64_t train_images, bool resumed, TrainingOptions& options) {
  const bool small = train_images <= train::kSmallTrainingSet;
  read_run_length(settings, options, small ? "6" : "5", small ? "64" : "128", small ? "0.002" : "0.003");
  if (settings.given("epochs") && settings.given("batch-size") && settings.given("lr")) return;
  const std::string why = resumed ? std::string("as the resumed run; --epochs can be given to train longer")
                                  : str("defaults for ", train_images, " training images",
                                        small ? str(" <= ", train::kSmallTrainingSet, ": small data")
                                              : str(" > ", train::kSmallTrainingSet),
                                        "; each can be given");
  std::printf("plan    --epochs %lld --batch-size %lld --lr %g (%s)\n", static_cast<long long>(options.config.epochs),
              static_cast<long long>(options.config.batch_size), options.lr, why.c_str());
}

}  // namespace

int train(int argc, char** argv) {
  Args args(argc, argv, 2, {"quiet", "help", "skip-bad-images"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    std::printf("  this build           %s\n", distributed_build_line().c_str());
    return 0;
  }
  // --resume DIR restores every setting from DIR/config.json; the others are
  // ignored except --epochs (train longer) and the run settings.
  std::string resume_dir = args.get("resume", "");
  train::RunInfo previous;
  if (!resume_dir.empty()) previous = train::load_run_info(resume_dir);

  RunSettings settings(args, previous.settings);
  TrainingOptions options = read_training_options(settings, args, {"0", "0", "", "", "", "onecycle"});
  train::DataOptions& data_options = options.data;
  train::TrainConfig& config = options.config;
  data_options.skip_bad_images = args.flag("skip-bad-images");
  std::string model_name = settings.text("model", "basic-cnn");
  std::string model_options = settings.text("model-options", "");
  kernels::apply_runtime_flags(args);
  args.finish();

  distributed::Communicator& comm = join_ranks(config.device, options.dist_timeout, args.has("threads"));
  config.comm = &comm;
  const bool root = comm.is_root();
  require_device(config.device);

  // ---- Data -----------------------------------------------------------------
  train::TrainingData data = train::load_training_data(data_options);
  std::printf("data    %s\n", data.description.c_str());
  resolve_size_defaults(settings, data.train.size(), !resume_dir.empty(), options);

  // ---- Model ----------------------------------------------------------------
  train::RunInfo info = previous;
  if (resume_dir.empty()) {
    info.model.name = model_name;
    info.model.options = models::parse_options(model_options);
    info.model.in_channels = data.train.images.size(1);
    info.model.image_size = data.train.images.size(2);
    info.model.classes = static_cast<int64_t>(data.train.class_names.size());
    for (const auto& [key, value] : models::size_chosen_options(info.model)) {
      info.model.options[key] = value;
      std::printf("plan    --model-options %s=%s (chosen for %lldx%lld input; can be given)\n", key.c_str(),
                  value.c_str(), static_cast<long long>(info.model.image_size),
                  static_cast<long long>(info.model.image_size));
    }
    info.class_names = data.train.class_names;
    info.data = data_options.spec;
    info.command = command_line(argc, argv);
  }
  info.settings = settings.all();
  info.input = data.input_style;
  manual_seed(config.seed);
  ModulePtr model = models::build_model(info.model);
  model->to(config.device);
  std::printf("model   %s (%s), %lld parameters\n", info.model.name.c_str(),
              models::describe_options(info.model).c_str(), static_cast<long long>(model->parameter_count()));
  std::printf("device  %s, kernels: %s\n", config.device.name().c_str(), kernels::describe().c_str());

  // ---- Run directory ----------------------------------------------------------
  // Rank 0 names the directory and alone writes into it.
  std::string dir = !resume_dir.empty() ? resume_dir
                    : !options.out.empty() ? options.out
                    : root ? train::fresh_run_dir("runs/" + info.model.name + "-" + data_name(info.data))
                           : "";
  dir = distributed::broadcast_text(comm, dir);
  config.checkpoint_path = dir + "/checkpoint.safetensors";
  if (root) {
    make_dirs(dir);
    train::save_run_info(dir, info);  // on --resume too: --epochs may have grown
    train::write_class_distribution(data.train, "training set: images per class", dir + "/class_distribution.png");
  }
  std::printf("run     %s\n\n", dir.c_str());

  // ---- Optimisation -------------------------------------------------------------
  data::LoaderOptions loader_options;
  loader_options.batch_size = config.batch_size;
  loader_options.shuffle = true;
  loader_options.seed = config.seed;
  loader_options.augment = data::AugmentConfig::parse(options.augment);
  loader_options.shard = comm.rank();
  loader_options.shards = comm.size();
  data::DataLoader loader(data.train, data::all_indices(data.train.size()), loader_options);
  int64_t steps_per_epoch = loader.batches_per_epoch();
  std::unique_ptr<optim::Optimizer> optimizer =
      optim::make_optimizer(options.optimizer, model->parameters(), static_cast<float>(options.lr),
                            static_cast<float>(options.momentum), static_cast<float>(options.weight_decay));
  std::unique_ptr<optim::Schedule> schedule =
      optim::parse_schedule(options.schedule, static_cast<float>(options.lr), config.epochs * steps_per_epoch,
                            steps_per_epoch);

  train::History history = train::fit({*model, *optimizer, *schedule, loader, data.validation}, config,
                                      !resume_dir.empty(), [&](const train::History& h) {
                                        if (root) train::write_history(dir, h);
                                      });
  if (history.epochs.empty()) return 130;
  if (root) save_module(*model, dir + "/model.safetensors", {{"model", info.model.name}});

  // ---- Final evaluation and reports ----------------------------------------------
  const data::Dataset& final_set = data.has_test() ? data.test : data.validation;
  std::string set_name = data.has_test() ? "test" : "validation";
  train::FinalReport report = train::evaluate_and_report(*model, final_set, set_name, info, history, dir,
                                                         config.device, &comm);
  std::printf("\n%s accuracy: %.2f%% (%lld images)%s\n", set_name.c_str(), 100.0 * report.accuracy,
              static_cast<long long>(final_set.size()),
              data.has_test() ? "" : " — this data has no separate test set");
  std::printf("reports: %s/{history,confusion,misclassified,correct,class_distribution}.png, metrics.csv, summary.json\n",
              dir.c_str());
  return train::interrupt_requested() ? 130 : 0;
}

}  // namespace nib::apps
