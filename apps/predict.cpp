// nib predict / nib eval: use a trained run on new images, or score it on a labelled set.
//
//   nib predict --model-dir runs/basic-cnn-mnist digit.png folder/      top classes per image
//   nib predict --model-dir runs/NAME --data test.csv --out submission.csv   Kaggle's ImageId,Label
//   nib eval --model-dir runs/basic-cnn-mnist --data mnist              accuracy and confusion matrix
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "apps/common.h"
#include "datasets/image_folder.h"
#include "layers/state_dict.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "train/evaluate.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/training_data.h"
#include "util/files.h"
#include "util/image.h"

namespace nib::apps {

namespace {

const char* kPredictHelp = R"(usage: nib predict --model-dir DIR [IMAGE|FOLDER...] [options]

Loads the model trained in DIR (config.json + model.safetensors) and
  - with image files or folders: prints the top classes of each image;
  - with --data SPEC: writes every prediction in Kaggle's submission format
    (ImageId,Label, ImageId from 1) to --out (a .csv file, or a folder that
    gets predictions.csv; default DIR/predictions-<data>/), with a grid of
    sample predictions; on labelled data it also prints the accuracy.

  --model-dir DIR    a run directory written by nib train or nib finetune (alias --run)
  --data SPEC        mnist | IDX directory | digits .csv (labelled or not) | class folders
  --top K            classes shown per image (default 3)
  --out PATH         see above
  --device cpu|cuda  (default cpu)
  --kernels SPEC     implementation choice
)";

const char* kEvalHelp = R"(usage: nib eval --model-dir DIR --data SPEC [options]

Scores the model trained in DIR on labelled data (the test set of IDX data,
else the whole set): prints the accuracy and writes confusion.png,
misclassified.png and correct.png to --out (default DIR/eval-<data>/).

  --model-dir DIR    a run directory written by nib train or nib finetune (alias --run)
  --data SPEC        mnist | IDX directory | labelled digits .csv | class folders
  --out DIR          where the figures go
  --device cpu|cuda, --kernels SPEC
)";

// An image file as the model's input: its channels and size, values in [0, 1].
Tensor load_input(const std::string& path, int64_t channels, int64_t size) {
  Image image = load_image(path, static_cast<int>(channels));
  if (image.width != size || image.height != size) image = resize(image, static_cast<int>(size), static_cast<int>(size));
  Tensor chw = image_to_tensor(image);
  return chw.reshape({1, chw.size(0), chw.size(1), chw.size(2)});
}

std::string last_component(const std::string& spec) {
  std::string s = spec;
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s.substr(s.find_last_of('/') + 1);
}

struct LoadedRun {
  train::RunInfo info;
  ModulePtr model;
};

LoadedRun load_run(Args& args, Device device) {
  std::string dir = args.get("model-dir", args.get("run", ""));
  NIB_CHECK(!dir.empty(), "--model-dir DIR is required (a run directory written by nib train)");
  LoadedRun run{train::load_run_info(dir), nullptr};
  run.model = models::build_model(run.info.model);
  load_module(*run.model, dir + "/model.safetensors");
  run.model->to(device);
  run.model->eval();
  return run;
}

std::string class_name(const std::vector<std::string>& names, int64_t c) {
  return static_cast<size_t>(c) < names.size() ? names[c] : std::to_string(c);
}

}  // namespace

int predict(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kPredictHelp, stdout);
    return 0;
  }
  std::string dir_arg = args.get("model-dir", args.get("run", ""));
  std::string data_spec = args.get("data", "");
  int64_t top = args.get_int("top", 3);
  std::string out = args.get("out", "");
  Device device = parse_device(args.get("device", "cpu"));
  configure_runtime(args);
  require_device(device);
  NIB_CHECK(!args.positional().empty() || !data_spec.empty(),
            "give image files or folders to classify, or --data (see nib predict --help)");
  LoadedRun run = load_run(args, device);
  args.finish();
  const train::RunInfo& info = run.info;
  ModulePtr model = run.model;
  const auto& names = info.class_names;

  if (!data_spec.empty()) {
    data::Dataset set = train::load_evaluation_data(data_spec, info.model.image_size, info.model.in_channels);
    std::vector<int32_t> labels = set.label_vector();  // empty for an unlabelled set (Kaggle's test.csv)
    train::Predictions predictions = train::predict(*model, set.images, labels, device);
    bool csv_path = out.size() > 4 && out.compare(out.size() - 4, 4, ".csv") == 0;
    std::string csv_file = csv_path ? out
                           : (out.empty() ? dir_arg + "/predictions-" + last_component(data_spec) : out) +
                                 "/predictions.csv";
    std::string figures = std::filesystem::path(csv_file).parent_path().string();
    if (figures.empty()) figures = ".";
    make_dirs(figures);
    std::string csv = "ImageId,Label\n";
    for (size_t i = 0; i < predictions.predicted.size(); ++i)
      csv += std::to_string(i + 1) + "," + class_name(names, predictions.predicted[i]) + "\n";
    write_file_atomic(csv_file, csv);
    train::write_prediction_figures(set, predictions, names, info.model.name + " on " + last_component(data_spec),
                                    figures);
    if (labels.empty())
      std::printf("%lld images classified (no labels to score against)\n", static_cast<long long>(set.size()));
    else
      std::printf("accuracy: %.2f%% on %lld images (loss %.4f)\n", 100.0 * predictions.accuracy(),
                  static_cast<long long>(set.size()), predictions.mean_loss);
    std::printf("written: %s (and figures in %s)\n", csv_file.c_str(), figures.c_str());
  }

  NoGrad no_grad;
  for (const std::string& path : image_files(args.positional())) {
    Tensor x = load_input(path, info.model.in_channels, info.model.image_size).to(device);
    std::vector<float> probs = ops::softmax((*model)(x)).to_vector();
    std::vector<int64_t> order(probs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    int64_t k = std::min<int64_t>(top, static_cast<int64_t>(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    std::printf("%s:", path.c_str());
    for (int64_t i = 0; i < k; ++i) {
      int64_t c = order[i];
      std::printf("  %s %.1f%%", class_name(names, c).c_str(), 100.0 * probs[c]);
    }
    std::printf("\n");
  }
  return 0;
}

int eval(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kEvalHelp, stdout);
    return 0;
  }
  std::string dir_arg = args.get("model-dir", args.get("run", ""));
  std::string data_spec = args.require("data");
  std::string out = args.get("out", "");
  Device device = parse_device(args.get("device", "cpu"));
  configure_runtime(args);
  require_device(device);
  LoadedRun run = load_run(args, device);
  args.finish();

  data::Dataset set = train::load_evaluation_data(data_spec, run.info.model.image_size, run.info.model.in_channels);
  NIB_CHECK(set.labelled(), data_spec, " has no labels to evaluate against (nib predict classifies unlabelled data)");
  train::Predictions predictions = train::predict(*run.model, set.images, set.label_vector(), device);
  std::string dir = out.empty() ? dir_arg + "/eval-" + last_component(data_spec) : out;
  make_dirs(dir);
  train::write_prediction_figures(set, predictions, run.info.class_names,
                                  run.info.model.name + " on " + last_component(data_spec), dir);
  std::printf("%s accuracy: %.2f%% (%lld images, loss %.4f)\nfigures: %s/confusion.png, misclassified.png, correct.png\n",
              set.source.find("t10k") != std::string::npos ? "test" : "evaluation", 100.0 * predictions.accuracy(),
              static_cast<long long>(set.size()), predictions.mean_loss, dir.c_str());
  return 0;
}

}  // namespace nib::apps
